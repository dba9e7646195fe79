package metadata

import (
	"maps"
	"slices"
	"strconv"
)

// Replica is a place that holds a copy of a partition: a node and one of its
// shards. It is also the unit of placement load.
type Replica struct {
	NodeID int32 `json:"node_id"`
	Shard  int   `json:"shard"`
}

// NoLeader is the Leader of a partition that has none, as Kafka says it (-1).
var NoLeader = Replica{NodeID: -1, Shard: -1}

// Partition is the placement of one partition of a topic.
type Partition struct {
	ID       int32     `json:"id"`       // 0-based; equal to its index in Topic.Partitions
	Replicas []Replica `json:"replicas"` // first is the preferred leader
	// Leader is the replica the controller last recorded as leader, NoLeader if
	// none. The partition's own Raft group decides leadership; this is the
	// controller's view, for Metadata responses.
	Leader Replica `json:"leader"`
	// Epoch is bumped by the controller each time it records a new leader or
	// replica set. It starts at 0. (The Kafka leader epoch served by the data
	// path is the partition's Raft term.)
	Epoch int32 `json:"epoch"`
}

// Topic is one topic. Values reachable from a State are immutable; use Clone
// to get a copy to modify.
type Topic struct {
	Name       string            `json:"name"`
	ID         UUID              `json:"id"`         // random, never zero; Kafka's topic id
	Partitions []Partition       `json:"partitions"` // Partitions[i].ID == i
	Configs    map[string]string `json:"configs,omitempty"`
	// Revision is the controller log index of the command that created the
	// topic. It tells apart a topic from an earlier one of the same name and
	// goes in partition directory names, see PartitionDir.
	Revision int64 `json:"revision"`
	Internal bool  `json:"internal,omitempty"` // __consumer_offsets and the like
}

// PartitionDir is the name of the partition's directory under
// <data>/kafka/<topic>/: "<partition>_<revision>".
func (t *Topic) PartitionDir(partition int32) string {
	return strconv.FormatInt(int64(partition), 10) + "_" + strconv.FormatInt(t.Revision, 10)
}

// Clone returns a deep copy of t.
func (t *Topic) Clone() *Topic {
	c := *t
	c.Configs = maps.Clone(t.Configs)
	c.Partitions = make([]Partition, len(t.Partitions))
	for i, p := range t.Partitions {
		p.Replicas = slices.Clone(p.Replicas)
		c.Partitions[i] = p
	}
	return &c
}
