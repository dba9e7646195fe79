package controller

import (
	"context"
	"fmt"

	"github.com/ailurus/ailurus/internal/metadata"
)

// RegisterBroker adds this or another node's broker record, or replaces it
// when an address, the rack or the shard count changed. Registering an
// identical record changes nothing (no new Version). The agent calls it at
// every start. It returns the State version after the call.
//
// Not handled yet: a node coming back with fewer shards keeps the partitions
// placed on the shards it lost.
func (c *Controller) RegisterBroker(ctx context.Context, b metadata.Broker) (uint64, error) {
	ch, err := c.propose(ctx, &registerBrokerCmd{Broker: b})
	return ch.Version, err
}

type registerBrokerCmd struct {
	Broker metadata.Broker `json:"broker"`
}

func (*registerBrokerCmd) op() string { return opRegisterBroker }

func (c *registerBrokerCmd) apply(st *metadata.State, _ uint64) (*metadata.State, metadata.Change, error) {
	if err := c.Broker.Validate(); err != nil {
		return nil, metadata.Change{}, fmt.Errorf("%w: node %d: %w", ErrInvalidBroker, c.Broker.NodeID, err)
	}
	b := c.Broker
	ch := metadata.Change{Kind: metadata.ChangeBrokerRegistered, Broker: &b}
	if old, ok := st.Broker(b.NodeID); ok && old == b {
		return nil, ch, nil
	}
	return st.WithBroker(b), ch, nil
}
