package metadata

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// State is the whole cluster metadata: what the controller replicates and
// snapshots, and what a shard loads when it starts.
//
// Ownership: the controller's FSM builds each State and never modifies one it
// has published; readers share it and must not modify it either. Derive a new
// State with the With* methods, or take a private deep copy with Clone.
type State struct {
	// Version counts the commands applied since the cluster was created; each
	// Change carries the Version it produced. 0 means an empty, new cluster.
	Version       uint64            `json:"version"`
	ClusterID     UUID              `json:"cluster_id"` // zero until the first leader initialises the cluster
	Brokers       map[int32]Broker  `json:"brokers"`
	Topics        map[string]*Topic `json:"topics"`
	ClusterConfig ClusterConfig     `json:"cluster_config"`

	// byID indexes Topics by ID. Built by the With* methods, NewState and
	// UnmarshalJSON; a State built as a literal has none and lookups scan.
	byID map[UUID]*Topic
}

// NewState returns an empty State, version 0.
func NewState() *State {
	return &State{
		Brokers:       map[int32]Broker{},
		Topics:        map[string]*Topic{},
		ClusterConfig: ClusterConfig{},
		byID:          map[UUID]*Topic{},
	}
}

// Topic returns the topic with this name.
func (s *State) Topic(name string) (*Topic, bool) {
	t, ok := s.Topics[name]
	return t, ok
}

// TopicByID returns the topic with this id. The zero UUID matches nothing.
func (s *State) TopicByID(id UUID) (*Topic, bool) {
	if id.IsZero() {
		return nil, false
	}
	if s.byID != nil {
		t, ok := s.byID[id]
		return t, ok
	}
	for _, t := range s.Topics {
		if t.ID == id {
			return t, true
		}
	}
	return nil, false
}

// Broker returns the broker with this node id.
func (s *State) Broker(nodeID int32) (Broker, bool) {
	b, ok := s.Brokers[nodeID]
	return b, ok
}

// BrokerList returns the brokers sorted by node id.
func (s *State) BrokerList() []Broker {
	out := slices.Collect(maps.Values(s.Brokers))
	slices.SortFunc(out, func(a, b Broker) int { return cmp.Compare(a.NodeID, b.NodeID) })
	return out
}

// TopicNames returns the topic names, sorted.
func (s *State) TopicNames() []string {
	return slices.Sorted(maps.Keys(s.Topics))
}

// OwnedPartition is a partition replica placed on a given node and shard.
// Topic points into the State it came from and is immutable.
type OwnedPartition struct {
	Topic     *Topic
	Partition int32
}

// PartitionsOn returns the partitions with a replica on (nodeID, shard), sorted
// by topic name then partition. A shard calls it when it starts. Cost: one pass
// over every partition.
func (s *State) PartitionsOn(nodeID int32, shard int) []OwnedPartition {
	want := Replica{NodeID: nodeID, Shard: shard}
	var out []OwnedPartition
	for _, t := range s.Topics {
		for _, p := range t.Partitions {
			if slices.Contains(p.Replicas, want) {
				out = append(out, OwnedPartition{Topic: t, Partition: p.ID})
			}
		}
	}
	slices.SortFunc(out, func(a, b OwnedPartition) int {
		if c := strings.Compare(a.Topic.Name, b.Topic.Name); c != 0 {
			return c
		}
		return cmp.Compare(a.Partition, b.Partition)
	})
	return out
}

// Load counts partition replicas per (node, shard), the input of Place.
func (s *State) Load() map[Replica]int {
	load := map[Replica]int{}
	for _, t := range s.Topics {
		for _, p := range t.Partitions {
			for _, r := range p.Replicas {
				load[r]++
			}
		}
	}
	return load
}

// UnmarshalJSON decodes a State and rebuilds its index; missing maps decode
// as empty ones.
func (s *State) UnmarshalJSON(b []byte) error {
	type plain State // same fields, no methods: avoids recursion
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*s = State(p)
	if s.Brokers == nil {
		s.Brokers = map[int32]Broker{}
	}
	if s.Topics == nil {
		s.Topics = map[string]*Topic{}
	}
	if s.ClusterConfig == nil {
		s.ClusterConfig = ClusterConfig{}
	}
	s.reindex()
	return nil
}

func (s *State) reindex() {
	s.byID = make(map[UUID]*Topic, len(s.Topics))
	for _, t := range s.Topics {
		s.byID[t.ID] = t
	}
}
