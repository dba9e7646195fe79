package config

import (
	"maps"
	"math"
	"slices"
)

// Cluster properties are cluster-wide settings kept in the controller and
// changed at run time through the admin API (PUT /v1/cluster_config). The node
// file only gives their initial values (section `cluster:`). Names, types,
// defaults and meanings follow Redpanda's, so `rpk cluster config` habits
// carry over; where Ailurus accepts less than Redpanda, the description says
// so.
//
// Units: TypeDurationMs values are integer milliseconds, TypeBytes values are
// integer bytes. Where -1 or null is accepted, the description says what it
// means (usually "no limit").

const (
	kib = int64(1) << 10
	mib = int64(1) << 20

	second = int64(1000) // in ms
	minute = 60 * second
	hour   = 60 * minute
	day    = 24 * hour
)

// clusterProps is the table, sorted by name (a test checks it). Each Default
// must pass its own property's validation (also checked by a test).
var clusterProps = []ClusterProperty{
	{
		Name: "auto_create_topics_enabled", Type: TypeBool, Default: false,
		Description: "Create a topic, with the default partitions and replication, when a client asks for one that does not exist (Kafka's auto.create.topics.enable). Developer mode starts with true.",
	},
	{
		Name: "cloud_storage_enabled", Type: TypeBool, Default: false,
		Description: "Run the uploader: tiered storage to S3 for topics with redpanda.remote.write=true. Read at startup.",
	},
	{
		Name: "data_transforms_enabled", Type: TypeBool, Default: false,
		Description: "Run the transformer: WebAssembly data transforms. Read at startup.",
	},
	{
		Name: "default_topic_partitions", Type: TypeInt, Default: int64(1), Check: between(1, math.MaxInt32),
		Description: "Partitions of a new topic that does not say (CreateTopics with -1, auto-created topics).",
	},
	{
		Name: "default_topic_replications", Type: TypeInt, Default: int64(1), Check: oddBetween(1, math.MaxInt16),
		Description: "Replication factor of a new topic that does not say. Must be odd: each partition is a Raft group, and an even count adds a replica without tolerating one more failure.",
	},
	{
		Name: "enable_idempotence", Type: TypeBool, Default: true,
		Description: "Accept idempotent producers (InitProducerId, sequence checks).",
	},
	{
		Name: "enable_transactions", Type: TypeBool, Default: true,
		Description: "Accept transactional producers (AddPartitionsToTxn, EndTxn, ...).",
	},
	{
		Name: "fetch_max_bytes", Type: TypeBytes, Default: 55 * mib, Check: atLeast(1),
		Description: "Upper bound, in bytes, on the data one Fetch response returns, whatever the client asks.",
	},
	{
		Name: "group_consumer_heartbeat_interval_ms", Type: TypeDurationMs, Default: 5 * second, Check: atLeast(1),
		Description: "Heartbeat interval, in ms, the coordinator hands to members of consumer-protocol groups (KIP-848; Kafka's group.consumer.heartbeat.interval.ms).",
	},
	{
		Name: "group_consumer_session_timeout_ms", Type: TypeDurationMs, Default: 45 * second, Check: atLeast(1),
		Description: "Milliseconds without a heartbeat after which a member of a consumer-protocol group (KIP-848) is removed (Kafka's group.consumer.session.timeout.ms).",
	},
	{
		Name: "group_initial_rebalance_delay", Type: TypeDurationMs, Default: 3 * second, Check: atLeast(0),
		Description: "Milliseconds a new consumer group waits for more members before its first rebalance.",
	},
	{
		Name: "group_max_session_timeout_ms", Type: TypeDurationMs, Default: 300 * second, Check: atLeast(1),
		Description: "Largest session timeout, in ms, a consumer may ask for; at least group_min_session_timeout_ms.",
	},
	{
		Name: "group_min_session_timeout_ms", Type: TypeDurationMs, Default: 6 * second, Check: atLeast(1),
		Description: "Smallest session timeout, in ms, a consumer may ask for.",
	},
	{
		Name: "group_offset_retention_sec", Type: TypeInt, Default: int64(7 * 24 * 3600), Check: atLeast(-1),
		Description: "Seconds committed offsets outlive their consumer group (Kafka's offsets.retention.minutes): an empty group's offsets expire this long after it emptied, a standalone consumer's each this long after its commit. -1 or 0: never.",
	},
	{
		Name: "group_topic_partitions", Type: TypeInt, Default: int64(16), Check: between(1, math.MaxInt32),
		Description: "Partitions of __consumer_offsets. Used once, when the topic is created; changing it later has no effect.",
	},
	{
		Name: "kafka_batch_max_bytes", Type: TypeBytes, Default: 1 * mib, Check: atLeast(1 * kib),
		Description: "Largest record batch, in bytes, a topic accepts unless it sets max.message.bytes; larger batches are refused with MESSAGE_TOO_LARGE. At most kafka_request_max_bytes.",
	},
	{
		Name: "kafka_request_max_bytes", Type: TypeBytes, Default: 100 * mib, Check: atLeast(1 * kib),
		Description: "Largest Kafka request, in bytes, a connection may send; a larger size prefix closes the connection.",
	},
	{
		Name: "log_cleanup_policy", Type: TypeEnum, Default: "delete",
		Enum:        []string{"delete", "compact", "compact,delete"},
		Aliases:     map[string]string{"delete,compact": "compact,delete"},
		Description: "cleanup.policy of topics that do not set it: delete (by retention), compact (keep the last record per key), or both.",
	},
	{
		Name: "log_compaction_interval_ms", Type: TypeDurationMs, Default: int64(10000), Check: atLeast(100),
		Description: "How often each shard runs housekeeping on its partitions: retention (retention.bytes, retention.ms) and, for compacted topics, compaction (at least 100).",
	},
	{
		Name: "log_compression_type", Type: TypeEnum, Default: "producer", Enum: []string{"producer"},
		Description: "compression.type of topics that do not set it. Ailurus stores batches exactly as the producer compressed them, so only producer is accepted (Redpanda also lists none, gzip, snappy, lz4, zstd).",
	},
	{
		Name: "log_message_timestamp_type", Type: TypeEnum, Default: "CreateTime", Enum: []string{"CreateTime", "LogAppendTime"},
		Description: "message.timestamp.type of topics that do not set it: the producer's timestamp, or the broker's time at append.",
	},
	{
		Name: "log_retention_ms", Type: TypeDurationMs, Default: 7 * day, Nullable: true, Check: atLeast(-1),
		Description: "retention.ms of topics that do not set it: closed segments older than this many ms are deleted. -1 or null: keep forever.",
	},
	{
		Name: "log_segment_ms", Type: TypeDurationMs, Default: 14 * day, Nullable: true, Check: atLeast(1 * minute),
		Description: "segment.ms of topics that do not set it: the active segment is rolled once it is this many ms old (at least 60000). null: roll by size only.",
	},
	{
		Name: "log_segment_size", Type: TypeBytes, Default: 128 * mib, Check: atLeast(1 * mib),
		Description: "segment.bytes of topics that do not set it: the active segment is rolled at this size in bytes (at least 1 MiB).",
	},
	{
		Name: "raft_heartbeat_interval_ms", Type: TypeDurationMs, Default: int64(150), Check: atLeast(1),
		Description: "Milliseconds between Raft leader heartbeats; election timeouts are derived from it.",
	},
	{
		Name: "retention_bytes", Type: TypeBytes, Default: nil, Nullable: true, Check: atLeast(-1),
		Description: "retention.bytes of topics that do not set it: per partition, the oldest closed segments are deleted above this size. -1 or null (the default): no size limit.",
	},
	{
		Name: "retention_local_target_bytes_default", Type: TypeBytes, Default: nil, Nullable: true, Check: atLeast(-1),
		Description: "retention.local.target.bytes of tiered topics that do not set it: local bytes kept per partition once uploaded. -1 or null (the default): no size target.",
	},
	{
		Name: "retention_local_target_ms_default", Type: TypeDurationMs, Default: 1 * day, Check: atLeast(-1),
		Description: "retention.local.target.ms of tiered topics that do not set it: ms of uploaded data kept locally. -1: no time target.",
	},
	{
		Name: "transaction_coordinator_partitions", Type: TypeInt, Default: int64(16), Check: between(1, math.MaxInt32),
		Description: "Partitions of __transaction_state. Used once, when the topic is created; changing it later has no effect. Each is a Raft group, so the default is 16 (as for __consumer_offsets) rather than Kafka's 50.",
	},
	{
		Name: "transaction_max_timeout_ms", Type: TypeDurationMs, Default: 15 * minute, Check: atLeast(1),
		Description: "Largest transaction timeout, in ms, a producer may ask for (Kafka's transaction.max.timeout.ms); larger asks get INVALID_TRANSACTION_TIMEOUT.",
	},
	{
		Name: "transactional_id_expiration_ms", Type: TypeDurationMs, Default: 7 * day, Check: atLeast(1),
		Description: "A transactional id or producer id idle for this many ms is forgotten.",
	},
	{
		Name: "write_caching_default", Type: TypeEnum, Default: "false", Enum: []string{"true", "false", "disabled"},
		Description: "write.caching of topics that do not set it. false: acks=all is answered once the batch is fsynced on a majority. true: answered once a majority holds it in memory, fsync follows shortly (faster, may lose acknowledged records if a majority loses power). disabled: false, and topics cannot turn it on. Developer mode does not change it.",
	},
}

// clusterPropIndex finds a property by name.
var clusterPropIndex = func() map[string]int {
	m := make(map[string]int, len(clusterProps))
	for i, p := range clusterProps {
		m[p.Name] = i
	}
	return m
}()

// ClusterProperties returns the table, sorted by name. The caller may keep and
// modify the result; the table itself does not change.
func ClusterProperties() []ClusterProperty {
	out := slices.Clone(clusterProps)
	for i := range out {
		out[i].Enum = slices.Clone(out[i].Enum)
		out[i].Aliases = maps.Clone(out[i].Aliases)
	}
	return out
}

// LookupClusterProperty returns the property called name.
func LookupClusterProperty(name string) (ClusterProperty, bool) {
	i, ok := clusterPropIndex[name]
	if !ok {
		return ClusterProperty{}, false
	}
	return clusterProps[i], true
}

// clusterPropNames returns every property name, for suggestions.
func clusterPropNames() []string {
	names := make([]string, len(clusterProps))
	for i, p := range clusterProps {
		names[i] = p.Name
	}
	return names
}
