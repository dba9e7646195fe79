package shard

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/raftlog"
	"github.com/ailurus/ailurus/internal/storage"
)

// replica is the partition's Raft group: hashicorp/raft over the partition
// log (internal/raftlog), so a produced batch is written once, to the log,
// and committed by Raft. One voter for now; the group is written so that a
// voter set can span nodes once the shard has a network transport.
type replica struct {
	r     *raft.Raft
	store *raftlog.Store
	trans raft.Transport
}

// Raft timing for partition groups, chosen by measurement (issue 3 notes):
// a single voter sends no heartbeats; its periodic wake-ups are the
// leader-lease check (every LeaderLeaseTimeout) and the snapshot timer. With
// 1,000 idle partitions on 2 shards the node used 8% of a core at 300 ms,
// about 5% at 1 s and 4.1-4.7% at 2 s (0.65% with no partitions), so 2 s.
// Startup does not pay for it: see the election kick in startReplica.
const (
	raftHeartbeat     = 2 * time.Second
	raftLease         = 2 * time.Second
	raftSnapInterval  = 5 * time.Minute
	raftSnapThreshold = 16384
	raftTrailingLogs  = 1024
)

// appliedBatch is what the FSM returns for a committed batch: where it landed.
type appliedBatch struct{ base, last int64 }

// partitionFSM applies committed entries: the data is already in the log,
// so applying a batch only moves the high watermark.
type partitionFSM struct{ p *partition }

func (f partitionFSM) Apply(l *raft.Log) any {
	if !raftlog.IsBatch(l) {
		return nil
	}
	h, err := batch.Parse(l.Data)
	if err != nil {
		return err
	}
	f.p.applyTxn(h, l.Data)
	f.p.advanceHW(h.NextOffset())
	return appliedBatch{h.BaseOffset, h.LastOffset()}
}

// Snapshot and Restore are empty: the log is the state, and Raft's log
// compaction after a snapshot only moves the store's first index (Kafka
// retention owns the data).
func (partitionFSM) Snapshot() (raft.FSMSnapshot, error) { return emptySnapshot{}, nil }
func (partitionFSM) Restore(rc io.ReadCloser) error      { return rc.Close() }

type emptySnapshot struct{}

func (emptySnapshot) Persist(s raft.SnapshotSink) error { return s.Close() }
func (emptySnapshot) Release()                          {}

// startReplica opens the Raft group of p over its log.
func startReplica(p *partition, stable *raftlog.SharedStable, groupID string) (*replica, error) {
	store, err := raftlog.Open(p.log, raftlog.Env{})
	if err != nil {
		return nil, fmt.Errorf("raft log store: %w", err)
	}
	st, err := stable.Group(groupID)
	if err != nil {
		store.Close()
		return nil, err
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(filepath.Join(p.log.Dir(), "raft-snapshots"), 1, hclog.NewNullLogger())
	if err != nil {
		store.Close()
		return nil, err
	}
	const self = raft.ServerID("1")
	_, trans := raft.NewInmemTransport(raft.ServerAddress(groupID))
	c := raft.DefaultConfig()
	c.LocalID = self
	c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = raftHeartbeat+raftHeartbeat/16, raftHeartbeat+raftHeartbeat/16, raftLease
	c.SnapshotInterval, c.SnapshotThreshold, c.TrailingLogs = raftSnapInterval, raftSnapThreshold, raftTrailingLogs
	c.BatchApplyCh, c.MaxAppendEntries = true, 256
	c.Logger = hclog.New(&hclog.LoggerOptions{Output: io.Discard, Level: hclog.Error})
	if err := raftlog.CheckConfig(c); err != nil {
		store.Close()
		return nil, err
	}
	fresh, err := neverBootstrapped(store, snaps)
	if err != nil {
		store.Close()
		return nil, err
	}
	if fresh {
		// BootstrapCluster stores the term before the configuration entry,
		// and refuses to run once a term exists. A shard killed between the
		// two left a group with a term, no entry and no snapshot: one that
		// never led and never took a write, and that hashicorp/raft would
		// start with no voters, so it never elects. Forget the term and
		// bootstrap it again. (A new group has no term: nothing to write.)
		if term, err := st.GetUint64(keyCurrentTerm); err == nil && term != 0 {
			if err := st.SetUint64(keyCurrentTerm, 0); err != nil {
				store.Close()
				return nil, err
			}
		}
		conf := raft.Configuration{Servers: []raft.Server{{ID: self, Address: trans.LocalAddr()}}}
		if err := raft.BootstrapCluster(c, store, st, snaps, trans, conf); err != nil {
			store.Close()
			return nil, fmt.Errorf("bootstrap raft group: %w", err)
		}
	}
	r, err := raft.NewRaft(c, partitionFSM{p}, store, st, snaps, trans)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("start raft group: %w", err)
	}
	// A sole voter need not wait a heartbeat timeout to lead: lowering the
	// timeout wakes the follower loop at once (hashicorp/raft notifies it of
	// a shorter timeout), which starts the election now. The group was
	// created with a slightly longer timeout for exactly this.
	rc := r.ReloadableConfig()
	rc.HeartbeatTimeout, rc.ElectionTimeout = raftHeartbeat, raftHeartbeat
	if err := r.ReloadConfig(rc); err != nil {
		r.Shutdown()
		store.Close()
		return nil, fmt.Errorf("raft group config: %w", err)
	}
	return &replica{r: r, store: store, trans: trans}, nil
}

// keyCurrentTerm is where hashicorp/raft keeps the current term in the
// stable store.
var keyCurrentTerm = []byte("CurrentTerm")

// neverBootstrapped reports whether a group has no log entry and no
// snapshot, so its configuration was never stored.
func neverBootstrapped(store raft.LogStore, snaps raft.SnapshotStore) (bool, error) {
	last, err := store.LastIndex()
	if err != nil || last > 0 {
		return false, err
	}
	list, err := snaps.List()
	return len(list) == 0, err
}

// isLeader reports whether this replica may take writes.
func (rp *replica) isLeader() bool { return rp.r.State() == raft.Leader }

// A group closed with more than snapshotOnCloseAfter entries, or
// snapshotOnCloseBytes of appends in this run, since its last snapshot takes
// one first. hashicorp/raft re-applies every entry after the latest
// snapshot when the group starts again, and the FSM reads each batch back
// from the log for it: without this a clean restart could re-read up to
// raftSnapThreshold batches (or 5 minutes of them) of every partition.
var (
	snapshotOnCloseAfter uint64 = 256
	snapshotOnCloseBytes int64  = 8 << 20
)

// close shuts the group down; the log stays open for its owner to close.
// appended is how many bytes the log took since it opened.
func (rp *replica) close(appended int64) error {
	last, snap := rp.r.AppliedIndex(), rp.lastSnapshotIndex()
	if last > snap && (last-snap > snapshotOnCloseAfter || appended > snapshotOnCloseBytes) {
		if err := rp.r.Snapshot().Error(); err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
			slog.Default().Warn("snapshot before close failed; the next start replays more", "err", err)
		}
	}
	err := rp.r.Shutdown().Error()
	if cerr := rp.store.Close(); err == nil {
		err = cerr
	}
	return err
}

// lastSnapshotIndex is the Raft index of the group's latest snapshot, 0 if
// none.
func (rp *replica) lastSnapshotIndex() uint64 {
	n, _ := strconv.ParseUint(rp.r.Stats()["last_snapshot_index"], 10, 64)
	return n
}

// raftErrCode maps a failed Apply to a Kafka error code.
func raftErrCode(err error) int16 {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost),
		errors.Is(err, raft.ErrRaftShutdown), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return 6 // NOT_LEADER_OR_FOLLOWER
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return 7 // REQUEST_TIMED_OUT
	case errors.Is(err, storage.ErrCorruptBatch), errors.Is(err, raftlog.ErrBadEntry):
		return 2 // CORRUPT_MESSAGE
	default:
		return storageErrCode(err)
	}
}
