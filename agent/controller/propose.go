package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/metadata"
)

// propose validates cmd against the current State, then replicates it and
// waits until the local FSM has applied it. It returns the FSM's Change (with
// the Version after the command) or the FSM's validation error.
//
// The early validation only saves a Raft round trip for requests that are
// already wrong; the FSM checks again, because the State may change between
// the two.
//
// ctx's deadline bounds the time to enter the Raft pipeline. Once in, the
// wait ends when the entry is applied, leadership is lost, or Raft shuts
// down; cancelling ctx does not stop it.
func (c *Controller) propose(ctx context.Context, cmd command) (metadata.Change, error) {
	if !c.IsLeader() {
		return metadata.Change{}, c.notController()
	}
	if _, _, err := cmd.apply(c.State(), 0); err != nil {
		return metadata.Change{}, err
	}
	data, err := encodeCommand(cmd)
	if err != nil {
		return metadata.Change{}, err
	}
	timeout, err := c.timeout(ctx)
	if err != nil {
		return metadata.Change{}, err
	}
	f := c.raft.Apply(data, timeout)
	if err := f.Error(); err != nil {
		return metadata.Change{}, c.raftError(err)
	}
	res, ok := f.Response().(applyResult)
	if !ok {
		return metadata.Change{}, fmt.Errorf("controller: unexpected apply result %T", f.Response())
	}
	return res.change, res.err
}

// timeout is the time left before ctx's deadline, or ApplyTimeout.
func (c *Controller) timeout(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	dl, ok := ctx.Deadline()
	if !ok {
		return c.cfg.ApplyTimeout, nil
	}
	left := time.Until(dl)
	if left <= 0 {
		return 0, fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded)
	}
	return left, nil
}

// raftError maps Raft's errors to this package's sentinels.
func (c *Controller) raftError(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost),
		errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w: %w", c.notController(), err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return fmt.Errorf("controller raft: %w", err)
}

func (c *Controller) notController() error {
	select {
	case <-c.closing:
		return ErrClosed
	default:
	}
	if id, ok := c.Leader(); ok {
		return fmt.Errorf("%w: node %d is the controller, node %d is not", ErrNotController, id, c.cfg.NodeID)
	}
	return fmt.Errorf("%w: no controller leader known", ErrNotController)
}

// check runs cmd against the current State without proposing it, for
// validate-only requests. Like a write, it needs this node to be the leader,
// whose State is the freshest.
func (c *Controller) check(cmd command) (metadata.Change, error) {
	if !c.IsLeader() {
		return metadata.Change{}, c.notController()
	}
	_, ch, err := cmd.apply(c.State(), 0)
	return ch, err
}
