package metadata

import (
	"maps"
	"strconv"
)

// ClusterConfig holds the cluster-wide properties (Redpanda's names, e.g.
// "log_retention_ms") as text, exactly as set by the operator. Keys absent
// take the property's default; the controller does not know defaults beyond
// the few it uses itself (below).
type ClusterConfig map[string]string

// Cluster properties the controller itself reads.
const (
	// KeyDefaultTopicPartitions is the partition count of a topic created with
	// -1 partitions (CreateTopics v4+). Default 1.
	KeyDefaultTopicPartitions = "default_topic_partitions"
	// KeyDefaultTopicReplications is the replication factor of a topic created
	// with replication factor -1. Default 1.
	KeyDefaultTopicReplications = "default_topic_replications"
)

// Int returns the key parsed as an integer, or def when absent or unparsable.
func (c ClusterConfig) Int(key string, def int64) int64 {
	v, ok := c[key]
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return def
	}
	return n
}

// Clone returns a copy of c; nil stays nil.
func (c ClusterConfig) Clone() ClusterConfig { return maps.Clone(c) }
