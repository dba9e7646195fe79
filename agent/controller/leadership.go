package controller

import (
	"context"
	"fmt"

	"github.com/ailurus/ailurus/internal/metadata"
)

// watchLeadership follows Raft's leadership notifications. On gaining
// leadership it waits until the FSM has applied every earlier entry (a Raft
// barrier), initialises the cluster if it has no id yet, then marks the
// controller ready; on losing it, not ready. It runs until ctx is cancelled.
//
// Raft blocks on notifyCh when it is full, and the barrier needs Raft's leader
// loop: the buffer (16) and the barrier's timeout keep that from wedging.
func (c *Controller) watchLeadership(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case leader := <-c.notifyCh:
			if !leader {
				c.setReady(false)
				c.log.Info("controller leadership lost", "node_id", c.cfg.NodeID)
				continue
			}
			if err := c.becomeLeader(ctx); err != nil {
				c.log.Warn("controller leadership setup failed", "node_id", c.cfg.NodeID, "err", err)
				continue
			}
			c.setReady(true)
			c.log.Info("controller leader", "node_id", c.cfg.NodeID, "version", c.State().Version)
		}
	}
}

func (c *Controller) becomeLeader(ctx context.Context) error {
	if err := c.raft.Barrier(c.cfg.ApplyTimeout).Error(); err != nil {
		return fmt.Errorf("barrier: %w", err)
	}
	if !c.State().ClusterID.IsZero() {
		return nil
	}
	id, err := metadata.NewUUID(nil)
	if err != nil {
		return err
	}
	cmd := &initClusterCmd{ClusterID: id, ClusterConfig: metadata.ClusterConfig(c.cfg.ClusterConfig).Clone()}
	ch, err := c.propose(ctx, cmd)
	if err != nil {
		return fmt.Errorf("initialise cluster: %w", err)
	}
	c.log.Info("cluster initialised", "cluster_id", c.State().ClusterID, "version", ch.Version)
	return nil
}

func (c *Controller) setReady(ready bool) {
	c.readyMu.Lock()
	defer c.readyMu.Unlock()
	if c.ready == ready {
		return
	}
	c.ready = ready
	close(c.readyCh)
	c.readyCh = make(chan struct{})
}

// WaitReady returns nil once this node is the controller leader, its State
// holds every entry of its log, and the cluster has an id: the moment writes
// can succeed. With a single voter that follows Open within about one
// election timeout. It returns ctx's error or ErrClosed otherwise.
//
// Not yet covered: a node that is a follower in a multi-node group never
// becomes ready here; followers will want "a leader is known and the FSM has
// caught up to its commit index".
func (c *Controller) WaitReady(ctx context.Context) error {
	for {
		select {
		case <-c.closing:
			return ErrClosed
		default:
		}
		c.readyMu.Lock()
		ready, changed := c.ready, c.readyCh
		c.readyMu.Unlock()
		if ready {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.closing:
			return ErrClosed
		}
	}
}
