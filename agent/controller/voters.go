package controller

import (
	"context"
	"fmt"

	"github.com/hashicorp/raft"
)

// AddVoter adds a node to the controller's voter set, or updates its address.
// Call it on the leader once the node has started its controller without
// Bootstrap; Raft then streams it the snapshot and log. It returns once the
// configuration change is committed. Errors wrap ErrNotController, ErrTimeout
// or ErrClosed.
func (c *Controller) AddVoter(ctx context.Context, nodeID int32, addr raft.ServerAddress) error {
	if !c.IsLeader() {
		return c.notController()
	}
	timeout, err := c.timeout(ctx)
	if err != nil {
		return err
	}
	if err := c.raft.AddVoter(serverID(nodeID), addr, 0, timeout).Error(); err != nil {
		return c.raftError(err)
	}
	c.log.Info("controller voter added", "node_id", nodeID, "addr", addr)
	return nil
}

// Voters returns the node ids and addresses of the current voter set.
func (c *Controller) Voters() (map[int32]raft.ServerAddress, error) {
	f := c.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, c.raftError(err)
	}
	out := map[int32]raft.ServerAddress{}
	for _, s := range f.Configuration().Servers {
		if s.Suffrage != raft.Voter {
			continue
		}
		id, ok := parseServerID(s.ID)
		if !ok {
			return nil, fmt.Errorf("controller voter with non-numeric id %q", s.ID)
		}
		out[id] = s.Address
	}
	return out, nil
}
