package controller

import (
	"context"
	"fmt"

	"github.com/ailurus/ailurus/internal/metadata"
)

// CreatePartitionsRequest is one topic of a Kafka CreatePartitions request.
type CreatePartitionsRequest struct {
	Topic string
	// Count is the new total number of partitions; it must exceed the current
	// count and not exceed MaxPartitions. Partitions are never removed.
	Count int32
	// ValidateOnly checks the request and returns the would-be topic.
	ValidateOnly bool
}

// CreatePartitions adds partitions to a topic, placed on the least-loaded
// shards. The Change (Kind ChangePartitionsCreated) holds the topic after the
// change and the ids of the new partitions. Errors wrap ErrUnknownTopic,
// ErrInvalidPartitions or ErrNotController. Explicit replica assignments are
// not supported.
func (c *Controller) CreatePartitions(ctx context.Context, req CreatePartitionsRequest) (metadata.Change, error) {
	cmd := &createPartitionsCmd{Topic: req.Topic, Count: req.Count}
	if req.ValidateOnly {
		return c.check(cmd)
	}
	return c.propose(ctx, cmd)
}

type createPartitionsCmd struct {
	Topic string `json:"topic"`
	Count int32  `json:"count"`
}

func (*createPartitionsCmd) op() string { return opCreatePartitions }

func (c *createPartitionsCmd) apply(st *metadata.State, _ uint64) (*metadata.State, metadata.Change, error) {
	none := metadata.Change{}
	t, ok := st.Topic(c.Topic)
	if !ok {
		return nil, none, fmt.Errorf("%w: topic %q", ErrUnknownTopic, c.Topic)
	}
	if t.Internal {
		return nil, none, fmt.Errorf("%w: the partition count of %s is fixed: ids hash onto it", ErrInternalTopic, t.Name)
	}
	have := int32(len(t.Partitions))
	switch {
	case c.Count == have:
		return nil, none, fmt.Errorf("%w: topic %q already has %d partitions", ErrInvalidPartitions, c.Topic, have)
	case c.Count < have:
		return nil, none, fmt.Errorf("%w: topic %q has %d partitions, which is more than the requested %d; partitions cannot be removed",
			ErrInvalidPartitions, c.Topic, have, c.Count)
	case c.Count > MaxPartitions:
		return nil, none, fmt.Errorf("%w: %d partitions, want at most %d", ErrInvalidPartitions, c.Count, MaxPartitions)
	}
	// Keep the topic's replication factor; every partition has the same.
	rf := len(t.Partitions[0].Replicas)
	placed, err := metadata.Place(st.BrokerList(), st.Load(), int(c.Count-have), rf)
	if err != nil {
		return nil, none, fmt.Errorf("%w: %w", ErrInvalidReplicationFactor, err)
	}
	nt := t.Clone()
	nt.Partitions = append(nt.Partitions, newPartitions(have, placed)...)
	added := make([]int32, 0, c.Count-have)
	for p := have; p < c.Count; p++ {
		added = append(added, p)
	}
	return st.WithTopic(nt), metadata.Change{Kind: metadata.ChangePartitionsCreated, Topic: nt, Partitions: added}, nil
}
