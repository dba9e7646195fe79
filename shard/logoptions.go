package shard

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/config"
	"github.com/ailurus/ailurus/internal/metadata"
	"github.com/ailurus/ailurus/internal/storage"
)

// Topic configs. One table says, for every topic config Ailurus knows
// (Kafka's names, and Redpanda's where Kafka has none), its type, which
// cluster property gives the default of topics that do not set it, which
// values it accepts and where it goes in the partition log's options. It
// is read by logOptions (opening a partition, and applying config changes
// to open ones), by DescribeConfigs (values and their sources) and by the
// AlterConfigs pair (which names and values are valid).

// topicConfig is one row of topicConfigs.
type topicConfig struct {
	name string
	typ  kmsg.ConfigType // Boolean, Int, Long, Double, String or List
	// cluster is the cluster property holding the default of topics that do
	// not set this config; "" when def is the default.
	cluster string
	// def is the built-in default: used without a cluster property, or when
	// the cluster property's value is not a valid value of this config
	// (write_caching_default=disabled). "" with opt set means
	// storage.DefaultOptions()'s value.
	def string
	// null is the value a null cluster property stands for.
	null string
	// enum lists the values a String accepts, or the items a List accepts;
	// nil accepts anything.
	enum []string
	// min is the smallest value an Int or Long accepts (Int: at most
	// MaxInt32).
	min int64
	// opt is the log option an Int or Long sets; apply sets the log option
	// of another type from a valid value. Both nil: the config is stored
	// and described but the partition log does not use it.
	opt   func(*storage.Options) *int64
	apply func(*storage.Options, string)
	doc   string
}

const noLimit = "9223372036854775807"

// topicConfigs is the table, sorted by name.
var topicConfigs = []topicConfig{
	{name: "cleanup.policy", typ: kmsg.ConfigTypeList, cluster: "log_cleanup_policy", def: "delete",
		enum:  []string{"compact", "delete"},
		apply: func(o *storage.Options, v string) { o.Compact = slices.Contains(strings.Split(v, ","), "compact") },
		doc:   "delete: closed segments go by retention.ms and retention.bytes; compact: keep the newest record of each key; or both."},
	{name: "compression.type", typ: kmsg.ConfigTypeString, cluster: "log_compression_type", def: "producer",
		enum: []string{"producer"},
		doc:  "Batches are stored exactly as the producer compressed them, so only producer is accepted."},
	{name: "delete.retention.ms", typ: kmsg.ConfigTypeLong, min: 0,
		opt: func(o *storage.Options) *int64 { return &o.DeleteRetentionMs },
		doc: "Milliseconds a tombstone is kept after compaction first sees it."},
	{name: "file.delete.delay.ms", typ: kmsg.ConfigTypeLong, def: "60000", min: 0,
		doc: "Accepted for compatibility; segments are deleted at once."},
	{name: "flush.bytes", typ: kmsg.ConfigTypeLong, min: 1,
		opt: func(o *storage.Options) *int64 { return &o.FlushBytes },
		doc: "With write.caching: flush once this many bytes are unflushed."},
	{name: "flush.messages", typ: kmsg.ConfigTypeLong, def: noLimit, min: 1,
		doc: "Accepted for compatibility; see flush.bytes and flush.ms."},
	{name: "flush.ms", typ: kmsg.ConfigTypeLong, min: 1,
		opt: func(o *storage.Options) *int64 { return &o.FlushMs },
		doc: "With write.caching: flush at most this many ms after a write."},
	{name: "follower.replication.throttled.replicas", typ: kmsg.ConfigTypeList,
		doc: "Accepted for compatibility; replication is not throttled."},
	{name: "index.interval.bytes", typ: kmsg.ConfigTypeInt, min: 0,
		opt: func(o *storage.Options) *int64 { return &o.IndexIntervalBytes },
		doc: "Bytes of batches between two entries of a segment's sparse offset index."},
	{name: "leader.replication.throttled.replicas", typ: kmsg.ConfigTypeList,
		doc: "Accepted for compatibility; replication is not throttled."},
	{name: "max.compaction.lag.ms", typ: kmsg.ConfigTypeLong, def: noLimit, min: 1,
		doc: "Accepted for compatibility; compaction runs on closed segments."},
	{name: "max.message.bytes", typ: kmsg.ConfigTypeInt, cluster: "kafka_batch_max_bytes", min: 0,
		doc: "Largest record batch, in bytes, the topic accepts. Stored; produce does not check it yet."},
	{name: "message.downconversion.enable", typ: kmsg.ConfigTypeBoolean, def: "true",
		doc: "Accepted for compatibility; batches are never down-converted."},
	{name: "message.format.version", typ: kmsg.ConfigTypeString, def: "3.0-IV1",
		doc: "Accepted for compatibility; batches are always stored in format v2."},
	{name: "message.timestamp.difference.max.ms", typ: kmsg.ConfigTypeLong, def: noLimit, min: 0,
		doc: "Accepted for compatibility; timestamps are not checked."},
	{name: "message.timestamp.type", typ: kmsg.ConfigTypeString, cluster: "log_message_timestamp_type", def: "CreateTime",
		enum: []string{"CreateTime", "LogAppendTime"},
		doc:  "CreateTime: the producer's timestamp; LogAppendTime: the broker's time at append. Stored; batches keep the producer's timestamps for now."},
	{name: "min.cleanable.dirty.ratio", typ: kmsg.ConfigTypeDouble, def: "0.5",
		doc: "Accepted for compatibility; compaction runs on closed segments."},
	{name: "min.compaction.lag.ms", typ: kmsg.ConfigTypeLong, def: "0", min: 0,
		doc: "Accepted for compatibility; compaction runs on closed segments."},
	{name: "min.insync.replicas", typ: kmsg.ConfigTypeInt, def: "1", min: 1,
		doc: "Accepted for compatibility; acks=all waits for a Raft majority."},
	{name: "preallocate", typ: kmsg.ConfigTypeBoolean, def: "false",
		doc: "Accepted for compatibility; the active segment is always preallocated in steps."},
	{name: "redpanda.remote.delete", typ: kmsg.ConfigTypeBoolean, def: "true",
		doc: "Delete the topic's data in object storage when the topic is deleted. Stored for tiered storage, not acted on yet."},
	{name: "redpanda.remote.read", typ: kmsg.ConfigTypeBoolean, def: "false",
		doc: "Serve fetches below the local log start from object storage. Stored for tiered storage, not acted on yet."},
	{name: "redpanda.remote.write", typ: kmsg.ConfigTypeBoolean, def: "false",
		doc: "Upload closed segments to object storage. Stored for tiered storage, not acted on yet."},
	{name: "retention.bytes", typ: kmsg.ConfigTypeLong, cluster: "retention_bytes", null: "-1", min: -1,
		opt: func(o *storage.Options) *int64 { return &o.RetentionBytes },
		doc: "Per partition, the oldest closed segments are deleted above this many bytes; -1: no limit."},
	{name: "retention.local.target.bytes", typ: kmsg.ConfigTypeLong, cluster: "retention_local_target_bytes_default", null: "-1", min: -1,
		doc: "Tiered topics: local bytes kept per partition once uploaded; -1: no target. Not acted on yet."},
	{name: "retention.local.target.ms", typ: kmsg.ConfigTypeLong, cluster: "retention_local_target_ms_default", null: "-1", min: -1,
		doc: "Tiered topics: ms of uploaded data kept locally; -1: no target. Not acted on yet."},
	{name: "retention.ms", typ: kmsg.ConfigTypeLong, cluster: "log_retention_ms", null: "-1", min: -1,
		opt: func(o *storage.Options) *int64 { return &o.RetentionMs },
		doc: "Closed segments whose newest record is older than this many ms are deleted; -1: keep forever."},
	{name: "segment.bytes", typ: kmsg.ConfigTypeInt, cluster: "log_segment_size", min: 1 << 10,
		opt: func(o *storage.Options) *int64 { return &o.SegmentBytes },
		doc: "The active segment is rolled at this many bytes."},
	{name: "segment.index.bytes", typ: kmsg.ConfigTypeInt, def: "10485760", min: 4,
		doc: "Accepted for compatibility; indexes are sized by index.interval.bytes."},
	{name: "segment.jitter.ms", typ: kmsg.ConfigTypeLong, def: "0", min: 0,
		doc: "Accepted for compatibility; segments roll without jitter."},
	{name: "segment.ms", typ: kmsg.ConfigTypeLong, cluster: "log_segment_ms", null: "0", min: 0,
		opt: func(o *storage.Options) *int64 { return &o.SegmentMs },
		doc: "The active segment is rolled once its first batch is this many ms old; 0: by size only."},
	{name: "unclean.leader.election.enable", typ: kmsg.ConfigTypeBoolean, def: "false",
		doc: "Accepted for compatibility; leaders are elected by Raft."},
	{name: "write.caching", typ: kmsg.ConfigTypeBoolean, cluster: "write_caching_default", def: "false",
		apply: func(o *storage.Options, v string) { o.WriteCaching = v == "true" },
		doc:   "true: acks=all is answered once the batch is written, and flushed within flush.ms or flush.bytes; false: once it is fsynced."},
}

var topicConfigIndex = func() map[string]*topicConfig {
	m := make(map[string]*topicConfig, len(topicConfigs))
	for i := range topicConfigs {
		m[topicConfigs[i].name] = &topicConfigs[i]
	}
	return m
}()

// lookupTopicConfig returns the row of a topic config name.
func lookupTopicConfig(name string) (*topicConfig, bool) {
	c, ok := topicConfigIndex[name]
	return c, ok
}

// parse checks v and returns it in canonical form (trimmed, booleans in
// lower case, lists sorted), or an error naming the config and the value.
func (c *topicConfig) parse(v string) (string, error) {
	v = strings.TrimSpace(v)
	switch c.typ {
	case kmsg.ConfigTypeBoolean:
		switch strings.ToLower(v) {
		case "true":
			return "true", nil
		case "false":
			return "false", nil
		}
		return "", fmt.Errorf("%s: %q is not true or false", c.name, v)
	case kmsg.ConfigTypeInt, kmsg.ConfigTypeLong:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || c.typ == kmsg.ConfigTypeInt && n > math.MaxInt32 {
			return "", fmt.Errorf("%s: %q is not an integer of type %s", c.name, v, typeName(c.typ))
		}
		if n < c.min {
			return "", fmt.Errorf("%s: %d is less than the minimum %d", c.name, n, c.min)
		}
		return strconv.FormatInt(n, 10), nil
	case kmsg.ConfigTypeDouble:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "", fmt.Errorf("%s: %q is not a number", c.name, v)
		}
		return v, nil
	case kmsg.ConfigTypeList:
		items := splitList(v)
		if c.enum == nil {
			return strings.Join(items, ","), nil
		}
		if len(items) == 0 {
			return "", fmt.Errorf("%s: empty, want one or more of %s", c.name, strings.Join(c.enum, ", "))
		}
		for _, it := range items {
			if !slices.Contains(c.enum, it) {
				return "", fmt.Errorf("%s: %q is not one of %s", c.name, it, strings.Join(c.enum, ", "))
			}
		}
		slices.Sort(items)
		return strings.Join(slices.Compact(items), ","), nil
	default:
		if c.enum != nil && !slices.Contains(c.enum, v) {
			return "", fmt.Errorf("%s: %q is not one of %s", c.name, v, strings.Join(c.enum, ", "))
		}
		return v, nil
	}
}

// builtin is the default without a cluster property.
func (c *topicConfig) builtin() string {
	if c.def == "" && c.opt != nil {
		d := storage.DefaultOptions()
		return strconv.FormatInt(*c.opt(&d), 10)
	}
	return c.def
}

// defaultValue is the value of a topic that does not set the config, and
// whether it comes from a cluster property set in the cluster config
// (rather than from a built-in default).
func (c *topicConfig) defaultValue(cluster metadata.ClusterConfig) (string, bool) {
	if c.cluster == "" {
		return c.builtin(), false
	}
	text, set := cluster[c.cluster]
	if !set {
		p, ok := config.LookupClusterProperty(c.cluster)
		if !ok {
			return c.builtin(), false
		}
		text = config.ClusterValueText(p.Default)
	}
	if text == "null" {
		return c.null, set
	}
	if v, err := c.parse(text); err == nil {
		return v, set
	}
	return c.builtin(), set
}

// value is the config's value for a topic with these configs.
func (c *topicConfig) value(cluster metadata.ClusterConfig, topic map[string]string) (string, error) {
	if v, ok := topic[c.name]; ok {
		return c.parse(v)
	}
	v, _ := c.defaultValue(cluster)
	return v, nil
}

// logOptions derives a partition log's options from the cluster defaults
// and the topic's configs. An invalid value of a config the log uses is an
// error; configs the log does not use are not looked at.
func logOptions(cluster metadata.ClusterConfig, topic map[string]string) (storage.Options, error) {
	o := storage.DefaultOptions()
	for i := range topicConfigs {
		c := &topicConfigs[i]
		if c.opt == nil && c.apply == nil {
			continue
		}
		v, err := c.value(cluster, topic)
		if err != nil {
			return o, err
		}
		if c.opt != nil {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil { // a null default without a null value: a table bug
				return o, fmt.Errorf("%s: default %q is not an integer", c.name, v)
			}
			*c.opt(&o) = n
		} else {
			c.apply(&o, v)
		}
	}
	// disabled: topics cannot turn write caching on.
	if cluster["write_caching_default"] == "disabled" {
		o.WriteCaching = false
	}
	if o.SegmentBytes < 1<<20 {
		o.PreallocBytes = 0
	}
	return o, o.Validate()
}

// splitList splits a comma-separated list, trimming items and dropping
// empty ones.
func splitList(v string) []string {
	var out []string
	for it := range strings.SplitSeq(v, ",") {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// typeName is the Kafka name of a config type, as Kafka's messages say it.
func typeName(t kmsg.ConfigType) string {
	switch t {
	case kmsg.ConfigTypeBoolean:
		return "BOOLEAN"
	case kmsg.ConfigTypeInt:
		return "INT"
	case kmsg.ConfigTypeLong:
		return "LONG"
	case kmsg.ConfigTypeDouble:
		return "DOUBLE"
	case kmsg.ConfigTypeList:
		return "LIST"
	}
	return "STRING"
}
