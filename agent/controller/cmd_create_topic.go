package controller

import (
	"context"
	"fmt"

	"github.com/ailurus/ailurus/internal/metadata"
)

// MaxPartitions bounds the partition count of one topic.
const MaxPartitions = 100_000

// CreateTopicRequest is one topic of a Kafka CreateTopics request.
type CreateTopicRequest struct {
	Name string
	// Partitions is the partition count, 1..MaxPartitions; -1 takes the
	// cluster's default_topic_partitions (default 1), as Kafka does.
	Partitions int32
	// ReplicationFactor must be 1 for now; -1 takes the cluster's
	// default_topic_replications (default 1).
	ReplicationFactor int16
	// Configs are the topic's properties (Kafka and Redpanda names), stored as
	// given. Not modified.
	Configs map[string]string
	// Internal marks a topic created by the system (__consumer_offsets...).
	Internal bool
	// ValidateOnly checks the request and returns the topic that would be
	// created (zero ID, zero Revision) without creating it.
	ValidateOnly bool
}

// CreateTopic creates a topic, placing its partitions on the least-loaded
// shards. The returned Change (Kind ChangeTopicCreated) holds the new Topic,
// with its ID and Revision, and the Version that contains it. Errors wrap
// ErrInvalidTopicName, ErrTopicExists, ErrInvalidPartitions,
// ErrInvalidReplicationFactor, ErrInvalidConfig or ErrNotController.
func (c *Controller) CreateTopic(ctx context.Context, req CreateTopicRequest) (metadata.Change, error) {
	id, err := metadata.NewUUID(nil)
	if err != nil {
		return metadata.Change{}, err
	}
	cmd := &createTopicCmd{
		Name:              req.Name,
		ID:                id,
		Partitions:        req.Partitions,
		ReplicationFactor: req.ReplicationFactor,
		Configs:           req.Configs,
		Internal:          req.Internal,
	}
	if req.ValidateOnly {
		ch, err := c.check(cmd)
		if err == nil {
			ch.Topic.ID = metadata.ZeroUUID // a private copy: the state it went into is discarded
		}
		return ch, err
	}
	return c.propose(ctx, cmd)
}

type createTopicCmd struct {
	Name              string            `json:"name"`
	ID                metadata.UUID     `json:"id"`
	Partitions        int32             `json:"partitions"`         // -1: cluster default
	ReplicationFactor int16             `json:"replication_factor"` // -1: cluster default
	Configs           map[string]string `json:"configs,omitempty"`
	Internal          bool              `json:"internal,omitempty"`
}

func (*createTopicCmd) op() string { return opCreateTopic }

func (c *createTopicCmd) apply(st *metadata.State, index uint64) (*metadata.State, metadata.Change, error) {
	none := metadata.Change{}
	if err := metadata.ValidateTopicName(c.Name); err != nil {
		return nil, none, err
	}
	if _, ok := st.Topic(c.Name); ok {
		return nil, none, fmt.Errorf("%w: topic %q", ErrTopicExists, c.Name)
	}
	if other, ok := st.CollidingTopic(c.Name); ok {
		return nil, none, fmt.Errorf("%w: topic %q collides with existing topic %q ('.' and '_' are the same in metric names)",
			ErrInvalidTopicName, c.Name, other)
	}
	n := int64(c.Partitions)
	if n == -1 {
		n = st.ClusterConfig.Int(metadata.KeyDefaultTopicPartitions, 1)
	}
	if n < 1 || n > MaxPartitions {
		return nil, none, fmt.Errorf("%w: %d partitions, want 1..%d", ErrInvalidPartitions, n, MaxPartitions)
	}
	rf := int64(c.ReplicationFactor)
	if rf == -1 {
		rf = st.ClusterConfig.Int(metadata.KeyDefaultTopicReplications, 1)
	}
	if rf < 1 {
		return nil, none, fmt.Errorf("%w: replication factor %d, want at least 1", ErrInvalidReplicationFactor, rf)
	}
	if rf > 1 {
		return nil, none, fmt.Errorf("%w: replication factor %d > 1 is not supported yet", ErrInvalidReplicationFactor, rf)
	}
	configs, _, err := editConfig(map[string]string(nil), c.Configs, nil)
	if err != nil {
		return nil, none, err
	}
	if c.ID.IsZero() {
		return nil, none, fmt.Errorf("create topic %q: zero topic id", c.Name)
	}
	if other, ok := st.TopicByID(c.ID); ok {
		return nil, none, fmt.Errorf("create topic %q: topic id %s already used by %q", c.Name, c.ID, other.Name)
	}
	placed, err := metadata.Place(st.BrokerList(), st.Load(), int(n), int(rf))
	if err != nil {
		return nil, none, fmt.Errorf("%w: %w", ErrInvalidReplicationFactor, err)
	}
	t := &metadata.Topic{
		Name:       c.Name,
		ID:         c.ID,
		Partitions: newPartitions(0, placed),
		Configs:    configs,
		Revision:   int64(index),
		Internal:   c.Internal,
	}
	return st.WithTopic(t), metadata.Change{Kind: metadata.ChangeTopicCreated, Topic: t}, nil
}

// newPartitions builds partitions first, first+1, ... from placed replica
// sets, each led by its first replica.
func newPartitions(first int32, placed [][]metadata.Replica) []metadata.Partition {
	ps := make([]metadata.Partition, len(placed))
	for i, rs := range placed {
		ps[i] = metadata.Partition{ID: first + int32(i), Replicas: rs, Leader: rs[0]}
	}
	return ps
}
