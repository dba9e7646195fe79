package shard

import (
	"context"
	"sync"
)

// writeTurn orders the log writes of one connection's requests. Kafka
// clients pipeline produce requests and rely on the broker appending them in
// the order sent; requests are handled concurrently here (so their fsync
// waits overlap and share a group commit), so each request waits for the
// previous one's turn before writing and passes the turn on once its writes
// are in the log. Requests that write nothing pass it on at once.
type writeTurn struct {
	prev <-chan struct{}
	mine chan struct{}
	once sync.Once
}

func newTurn(prev <-chan struct{}) *writeTurn {
	return &writeTurn{prev: prev, mine: make(chan struct{})}
}

// wait blocks until every earlier request of the connection has written.
func (t *writeTurn) wait(ctx context.Context) error {
	if t == nil || t.prev == nil {
		return nil
	}
	select {
	case <-t.prev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// done passes the turn on; safe to call more than once.
func (t *writeTurn) done() {
	if t != nil {
		t.once.Do(func() { close(t.mine) })
	}
}

type turnKey struct{}

func withTurn(ctx context.Context, t *writeTurn) context.Context {
	return context.WithValue(ctx, turnKey{}, t)
}

func turnOf(ctx context.Context) *writeTurn {
	t, _ := ctx.Value(turnKey{}).(*writeTurn)
	return t
}
