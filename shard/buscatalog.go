package shard

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ailurus/ailurus/internal/bus"
	"github.com/ailurus/ailurus/internal/ctrlapi"
	"github.com/ailurus/ailurus/internal/metadata"
)

// BusCatalog is the production Catalog: metadata followed over the bus
// (snapshot, then changes in version order), control requests sent to the
// agent's controller as request/reply.
type BusCatalog struct {
	conn  *bus.Conn
	state atomic.Pointer[metadata.State]
	mu    sync.Mutex
	ch    chan struct{}
	f     *bus.MetaFollower
}

var _ Catalog = (*BusCatalog)(nil)

// NewBusCatalog prepares a catalog; Run follows the metadata until ctx ends.
func NewBusCatalog(conn *bus.Conn, name string) (*BusCatalog, error) {
	c := &BusCatalog{conn: conn, ch: make(chan struct{})}
	c.state.Store(metadata.NewState())
	f, err := bus.NewMetaFollower(conn, bus.MetaFollowerConfig{
		Name: name,
		OnSnapshot: func(snap bus.MetaSnapshot) error {
			st := metadata.NewState()
			if err := json.Unmarshal(snap.Payload, st); err != nil {
				return fmt.Errorf("decode metadata snapshot: %w", err)
			}
			st.Version = snap.Version
			c.set(st)
			return nil
		},
		OnUpdate: func(u bus.MetaUpdate) error {
			var ch metadata.Change
			if err := json.Unmarshal(u.Payload, &ch); err != nil {
				return fmt.Errorf("decode metadata change: %w", err)
			}
			st, err := c.state.Load().Apply(ch)
			if err != nil {
				return err
			}
			c.set(st)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	c.f = f
	return c, nil
}

// Run follows the controller until ctx ends.
func (c *BusCatalog) Run(ctx context.Context) error { return c.f.Run(ctx) }

// Synced is closed once the first snapshot is applied.
func (c *BusCatalog) Synced() <-chan struct{} { return c.f.Synced() }

func (c *BusCatalog) set(st *metadata.State) {
	c.state.Store(st)
	c.mu.Lock()
	close(c.ch)
	c.ch = make(chan struct{})
	c.mu.Unlock()
}

// State implements Catalog.
func (c *BusCatalog) State() *metadata.State { return c.state.Load() }

// Updated implements Catalog.
func (c *BusCatalog) Updated() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ch
}

// Control implements Catalog.
func (c *BusCatalog) Control(ctx context.Context, req ctrlapi.Request) (ctrlapi.Reply, error) {
	payload, err := json.Marshal(req)
	if err != nil {
		return ctrlapi.Reply{}, err
	}
	rep, err := bus.Request[bus.CtrlRequest, bus.CtrlReply](ctx, c.conn, bus.SubjCtrlRequest, bus.CtrlRequest{Op: req.Op, Payload: payload})
	if err != nil {
		return ctrlapi.Reply{}, err
	}
	if rep.Error != "" {
		return ctrlapi.Reply{}, fmt.Errorf("controller: %s", rep.Error)
	}
	var out ctrlapi.Reply
	if err := json.Unmarshal(rep.Payload, &out); err != nil {
		return ctrlapi.Reply{}, fmt.Errorf("decode controller reply: %w", err)
	}
	return out, nil
}
