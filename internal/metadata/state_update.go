package metadata

import "maps"

// The With* methods are how the controller's FSM derives the next State. Each
// returns a new State sharing every unchanged part with the receiver, which is
// left untouched (copy on write: maps are copied, topics are not). They do not
// validate and do not change Version; the FSM does both.

// WithBroker returns s with b added or replacing the broker of the same node id.
func (s *State) WithBroker(b Broker) *State {
	n := s.shallow()
	n.Brokers = maps.Clone(s.Brokers)
	if n.Brokers == nil {
		n.Brokers = map[int32]Broker{}
	}
	n.Brokers[b.NodeID] = b
	return n
}

// WithTopic returns s with t added or replacing the topic of the same name.
// t must not be modified afterwards.
func (s *State) WithTopic(t *Topic) *State {
	n := s.shallow()
	n.Topics = maps.Clone(s.Topics)
	if n.Topics == nil {
		n.Topics = map[string]*Topic{}
	}
	n.Topics[t.Name] = t
	n.reindex()
	return n
}

// WithoutTopic returns s without the named topic.
func (s *State) WithoutTopic(name string) *State {
	n := s.shallow()
	n.Topics = maps.Clone(s.Topics)
	delete(n.Topics, name)
	n.reindex()
	return n
}

// WithClusterConfig returns s with its cluster configuration replaced by cc,
// which must not be modified afterwards.
func (s *State) WithClusterConfig(cc ClusterConfig) *State {
	n := s.shallow()
	n.ClusterConfig = cc
	return n
}

// WithClusterID returns s with the cluster id set.
func (s *State) WithClusterID(id UUID) *State {
	n := s.shallow()
	n.ClusterID = id
	return n
}

// shallow copies the struct. The copy shares the maps (and the index) until a
// With* method replaces the one it changes.
func (s *State) shallow() *State {
	n := *s
	return &n
}

// Clone returns a deep copy of s that shares nothing with it: the caller may
// modify it freely.
func (s *State) Clone() State {
	c := State{
		Version:       s.Version,
		ClusterID:     s.ClusterID,
		Brokers:       maps.Clone(s.Brokers),
		Topics:        make(map[string]*Topic, len(s.Topics)),
		ClusterConfig: s.ClusterConfig.Clone(),
	}
	if c.Brokers == nil {
		c.Brokers = map[int32]Broker{}
	}
	if c.ClusterConfig == nil {
		c.ClusterConfig = ClusterConfig{}
	}
	for name, t := range s.Topics {
		c.Topics[name] = t.Clone()
	}
	c.reindex()
	return c
}
