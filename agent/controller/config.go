package controller

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/metadata"
)

// Config is everything Open needs. Zero durations and counts take the
// DefaultConfig value.
type Config struct {
	// NodeID is this node's broker id, also its Raft server id (decimal).
	NodeID int32
	// Dir holds raft.db (log and stable store) and snapshots/. Created if missing.
	Dir string
	// Transport carries Raft RPCs. The controller owns it from Open on: Close
	// closes it, and so does a failed Open. Tests use raft.NewInmemTransport.
	Transport raft.Transport
	// Logger receives the controller's events (subsys=controller) and Raft's
	// warnings and errors (subsys=raft). nil discards.
	Logger *slog.Logger

	// Bootstrap makes this node the sole voter of a new cluster when Dir holds
	// no Raft state yet. Ignored once state exists. Exactly one node of a
	// cluster bootstraps; the others join through AddVoter on the leader.
	Bootstrap bool
	// ClusterConfig holds the initial cluster properties. The first leader of
	// a new cluster writes them with the cluster id, once; later changes go
	// through SetClusterConfig. Not modified.
	ClusterConfig map[string]string

	// OnChange, if set, is called once per applied command, in Version order,
	// from Raft's FSM goroutine, and once with ChangeStateReset whenever the
	// State is restored from a snapshot (this one may run inside Open, before
	// it returns). Commands replayed from the log at start are announced
	// again: receivers key on Version. It must return quickly (hand the change
	// to a channel or publish asynchronously): the next command waits for it,
	// and so does every write caller. It must not call the Controller's write
	// methods (deadlock); reading the Change is enough. It must not modify the
	// Change's pointed-to values.
	OnChange func(metadata.Change)

	// Raft timing. LeaderLeaseTimeout must not exceed HeartbeatTimeout.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration

	// SnapshotInterval is how often Raft checks whether to snapshot;
	// SnapshotThreshold is the number of new entries that triggers one;
	// TrailingLogs is the number of entries kept after a snapshot for
	// followers that lag. Together they keep raft.db small.
	SnapshotInterval  time.Duration
	SnapshotThreshold uint64
	TrailingLogs      uint64
	// SnapshotRetain is the number of snapshot files kept in Dir/snapshots.
	SnapshotRetain int

	// ApplyTimeout bounds a write whose context has no deadline: the time to
	// get the command into the Raft pipeline, and the barrier at leadership.
	ApplyTimeout time.Duration
	// LockTimeout is how long Open waits for the lock on raft.db, held by
	// another process using the same Dir (e.g. an agent still exiting).
	LockTimeout time.Duration
}

// DefaultConfig returns the production defaults; the caller fills NodeID, Dir,
// Transport and the rest.
func DefaultConfig() Config {
	return Config{
		HeartbeatTimeout:   time.Second,
		ElectionTimeout:    time.Second,
		LeaderLeaseTimeout: 500 * time.Millisecond,
		CommitTimeout:      50 * time.Millisecond,
		SnapshotInterval:   30 * time.Second,
		SnapshotThreshold:  1024,
		TrailingLogs:       1024,
		SnapshotRetain:     2,
		ApplyTimeout:       10 * time.Second,
		LockTimeout:        5 * time.Second,
	}
}

// withDefaults returns c with zero values replaced by DefaultConfig's.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setDur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	setDur(&c.HeartbeatTimeout, d.HeartbeatTimeout)
	setDur(&c.ElectionTimeout, d.ElectionTimeout)
	setDur(&c.LeaderLeaseTimeout, d.LeaderLeaseTimeout)
	setDur(&c.CommitTimeout, d.CommitTimeout)
	setDur(&c.SnapshotInterval, d.SnapshotInterval)
	setDur(&c.ApplyTimeout, d.ApplyTimeout)
	setDur(&c.LockTimeout, d.LockTimeout)
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = d.SnapshotThreshold
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = d.TrailingLogs
	}
	if c.SnapshotRetain == 0 {
		c.SnapshotRetain = d.SnapshotRetain
	}
	return c
}

// Validate reports every problem with c at once. Raft checks its own timing
// rules again in Open.
func (c Config) Validate() error {
	var errs []error
	if c.NodeID < 0 {
		errs = append(errs, fmt.Errorf("node id %d is negative", c.NodeID))
	}
	if c.Dir == "" {
		errs = append(errs, errors.New("dir is empty"))
	}
	if c.Transport == nil {
		errs = append(errs, errors.New("transport is nil"))
	}
	if c.LeaderLeaseTimeout > c.HeartbeatTimeout {
		errs = append(errs, fmt.Errorf("leader lease timeout %s exceeds heartbeat timeout %s",
			c.LeaderLeaseTimeout, c.HeartbeatTimeout))
	}
	if c.ElectionTimeout < c.HeartbeatTimeout {
		errs = append(errs, fmt.Errorf("election timeout %s is below heartbeat timeout %s",
			c.ElectionTimeout, c.HeartbeatTimeout))
	}
	for k := range c.ClusterConfig {
		if k == "" {
			errs = append(errs, errors.New("cluster config has an empty key"))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("controller config: %w", errors.Join(errs...))
	}
	return nil
}
