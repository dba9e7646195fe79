package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"

	"github.com/ailurus/ailurus/internal/metadata"
)

// Controller is this node's member of the controller Raft group. The agent
// owns it: one per node, from Open to Close. All methods are safe for
// concurrent use.
type Controller struct {
	cfg   Config
	log   *slog.Logger
	raft  *raft.Raft
	fsm   *fsm
	store *raftboltdb.BoltStore

	notifyCh chan bool // Raft leadership transitions, read by watchLeadership

	readyMu sync.Mutex
	ready   bool          // leader with the FSM caught up and the cluster initialised
	readyCh chan struct{} // closed and replaced whenever ready changes

	cancel    context.CancelFunc // stops background goroutines
	wg        sync.WaitGroup     // background goroutines, see goTracked
	closing   chan struct{}      // closed by Close
	closeOnce sync.Once
	closeErr  error
}

// Open opens (or creates) the controller's state under cfg.Dir and starts its
// Raft member. It restores the latest snapshot before returning; entries after
// it are re-applied once a leader commits them. With cfg.Bootstrap and no
// prior state, this node becomes the single voter of a new cluster. Open does
// not wait for an election: call WaitReady.
func Open(cfg Config) (c *Controller, err error) {
	cfg = cfg.withDefaults()
	raftStarted := false // from then on, shutting Raft down closes the transport
	defer func() {
		if err != nil && !raftStarted && cfg.Transport != nil {
			closeTransport(cfg.Transport)
		}
	}()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	log := logger.With("subsys", "controller")
	raftLog := newRaftLogger(logger.With("subsys", "raft"))

	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("controller dir: %w", err)
	}
	store, err := raftboltdb.New(raftboltdb.Options{
		Path:        filepath.Join(cfg.Dir, "raft.db"),
		BoltOptions: &bbolt.Options{Timeout: cfg.LockTimeout}, // another process holding the file: fail, don't hang
	})
	if err != nil {
		return nil, fmt.Errorf("open controller log %s: %w", cfg.Dir, err)
	}
	fail := func(err error) (*Controller, error) {
		_ = store.Close()
		return nil, err
	}
	logs, err := raft.NewLogCache(256, store)
	if err != nil {
		return fail(fmt.Errorf("controller log cache: %w", err))
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, cfg.SnapshotRetain, raftLog)
	if err != nil {
		return fail(fmt.Errorf("controller snapshots: %w", err))
	}
	hasState, err := raft.HasExistingState(logs, store, snaps)
	if err != nil {
		return fail(fmt.Errorf("controller state: %w", err))
	}

	c = &Controller{
		cfg:      cfg,
		log:      log,
		fsm:      newFSM(cfg.OnChange, log),
		store:    store,
		notifyCh: make(chan bool, 16),
		readyCh:  make(chan struct{}),
		closing:  make(chan struct{}),
	}
	rc := raft.DefaultConfig()
	rc.LocalID = serverID(cfg.NodeID)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.TrailingLogs = cfg.TrailingLogs
	rc.NotifyCh = c.notifyCh
	rc.Logger = raftLog
	rc.NoLegacyTelemetry = true

	r, err := raft.NewRaft(rc, c.fsm, logs, store, snaps, cfg.Transport)
	if err != nil {
		return fail(fmt.Errorf("start controller raft: %w", err))
	}
	raftStarted = true
	c.raft = r

	if cfg.Bootstrap && !hasState {
		boot := raft.Configuration{Servers: []raft.Server{{
			Suffrage: raft.Voter,
			ID:       rc.LocalID,
			Address:  cfg.Transport.LocalAddr(),
		}}}
		if err := r.BootstrapCluster(boot).Error(); err != nil {
			_ = r.Shutdown().Error() // closes the transport
			_ = store.Close()
			return nil, fmt.Errorf("bootstrap controller: %w", err)
		}
		log.Info("controller bootstrapped", "node_id", cfg.NodeID, "addr", cfg.Transport.LocalAddr())
	}

	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.goTracked(func() { c.watchLeadership(ctx) })
	log.Info("controller started", "node_id", cfg.NodeID, "dir", cfg.Dir,
		"existing_state", hasState, "last_index", r.LastIndex(), "version", c.fsm.state.Load().Version)
	return c, nil
}

// Close stops the Raft member, the background goroutines, the transport and
// the store. Writes in flight fail with ErrNotController or ErrClosed.
// Idempotent; later calls return the first call's error.
func (c *Controller) Close() error {
	c.closeOnce.Do(func() {
		close(c.closing)
		c.cancel()
		err := c.raft.Shutdown().Error()
		c.wg.Wait()
		c.closeErr = errors.Join(err, c.store.Close())
		c.log.Info("controller stopped", "node_id", c.cfg.NodeID)
	})
	return c.closeErr
}

// State returns the current metadata, shared and immutable: do not modify it.
// It never blocks. Use Snapshot for a private copy.
func (c *Controller) State() *metadata.State { return c.fsm.state.Load() }

// Snapshot returns a deep copy of the current metadata that the caller owns,
// e.g. for a shard that starts and then follows Changes from its Version.
func (c *Controller) Snapshot() metadata.State { return c.State().Clone() }

// IsLeader reports whether this node is the controller leader right now.
func (c *Controller) IsLeader() bool { return c.raft.State() == raft.Leader }

// Leader returns the node id of the current controller leader, if known.
func (c *Controller) Leader() (nodeID int32, ok bool) {
	_, id := c.raft.LeaderWithID()
	return parseServerID(id)
}

// goTracked runs fn in a goroutine that Close waits for.
func (c *Controller) goTracked(fn func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		fn()
	}()
}

// serverID is the Raft server id of a node: its node id in decimal.
func serverID(nodeID int32) raft.ServerID {
	return raft.ServerID(strconv.FormatInt(int64(nodeID), 10))
}

// parseServerID is the inverse of serverID.
func parseServerID(id raft.ServerID) (int32, bool) {
	n, err := strconv.ParseInt(string(id), 10, 32)
	if err != nil {
		return -1, false
	}
	return int32(n), true
}

func closeTransport(t raft.Transport) {
	if cl, ok := t.(io.Closer); ok {
		_ = cl.Close()
	}
}
