package shard

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ailurus/ailurus/internal/metadata"
	"github.com/ailurus/ailurus/internal/raftlog"
	"github.com/ailurus/ailurus/internal/storage"
)

// tp names a partition.
type tp struct {
	topic     string
	partition int32
}

// partitions owns the open partitions of the shard. The follow goroutine is
// the only writer of the map (open on placement, close on deletion); request
// handlers look partitions up under mu.
type partitions struct {
	s      *Shard
	root   string                // <data>/kafka
	stable *raftlog.SharedStable // term and vote of every partition group of the shard

	mu   sync.RWMutex
	open map[tp]*partition

	dataMu sync.Mutex
	dataCh chan struct{} // closed and replaced when any partition's high watermark moves

	openMu sync.Mutex
	openCh chan struct{} // closed and replaced after each reconcile
}

func newPartitions(s *Shard, root string) *partitions {
	return &partitions{s: s, root: root, open: map[tp]*partition{}, dataCh: make(chan struct{}), openCh: make(chan struct{})}
}

// get returns the open partition, or nil.
func (ps *partitions) get(topic string, p int32) *partition {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	return ps.open[tp{topic, p}]
}

// openWaitMax bounds how long a request waits for a partition that the
// metadata places on this shard but that is still opening (just created,
// or recovering): answering NOT_LEADER at once would make clients retry,
// and non-idempotent ones reorder records across that retry.
const openWaitMax = 10 * time.Second

// await returns the open partition, waiting while it is placed here but not
// open yet; nil if it is not placed here or does not open in time.
func (ps *partitions) await(ctx context.Context, topic string, p int32) *partition {
	deadline := time.NewTimer(openWaitMax)
	defer deadline.Stop()
	for {
		ps.openMu.Lock()
		ch := ps.openCh
		ps.openMu.Unlock()
		part := ps.get(topic, p)
		if part != nil && part.rep.isLeader() {
			return part
		}
		if r, _ := ps.s.routeOf(topic, p); r != routeLocal {
			return nil
		}
		select {
		case <-ch:
		case <-ps.s.cfg.Catalog.Updated():
		case <-time.After(5 * time.Millisecond): // electing: a single voter leads within a heartbeat
		case <-deadline.C:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// dataArrived returns a channel closed when any partition gets new committed
// data: fetch long-polls wait on it.
func (ps *partitions) dataArrived() <-chan struct{} {
	ps.dataMu.Lock()
	defer ps.dataMu.Unlock()
	return ps.dataCh
}

func (ps *partitions) signalData() {
	ps.dataMu.Lock()
	close(ps.dataCh)
	ps.dataCh = make(chan struct{})
	ps.dataMu.Unlock()
}

// follow reconciles open partitions with the metadata until ctx ends.
func (ps *partitions) follow(ctx context.Context) {
	for {
		ch := ps.s.cfg.Catalog.Updated()
		if err := ps.reconcile(); err != nil {
			ps.s.log.Error("reconcile partitions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
	}
}

// reconcile opens every partition placed on this shard that is not open and
// closes (and deletes) those no longer placed here.
func (ps *partitions) reconcile() error {
	st := ps.s.cfg.Catalog.State()
	want := map[tp]metadata.OwnedPartition{}
	for _, op := range st.PartitionsOn(ps.s.cfg.NodeID, ps.s.cfg.ID) {
		want[tp{op.Topic.Name, op.Partition}] = op
	}
	var errs []error
	ps.mu.RLock()
	var toClose []*partition
	for k, p := range ps.open {
		if op, ok := want[k]; !ok || op.Topic.Revision != p.revision {
			toClose = append(toClose, p)
		}
	}
	var toOpen []metadata.OwnedPartition
	for k, op := range want {
		if p, ok := ps.open[k]; !ok || p.revision != op.Topic.Revision {
			toOpen = append(toOpen, op)
		}
	}
	ps.mu.RUnlock()
	for _, p := range toClose {
		ps.mu.Lock()
		delete(ps.open, tp{p.topic, p.id})
		ps.mu.Unlock()
		if err := p.close(); err != nil {
			errs = append(errs, err)
		}
		// The topic was deleted (or recreated under a new revision): its data goes.
		if err := os.RemoveAll(p.log.Dir()); err != nil {
			errs = append(errs, err)
		}
		ps.s.log.Info("partition removed", "topic", p.topic, "partition", p.id)
	}
	for _, op := range toOpen {
		p, err := ps.openPartition(st, op)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ps.mu.Lock()
		ps.open[tp{p.topic, p.id}] = p
		ps.mu.Unlock()
	}
	ps.openMu.Lock()
	close(ps.openCh)
	ps.openCh = make(chan struct{})
	ps.openMu.Unlock()
	return errors.Join(errs...)
}

func (ps *partitions) openPartition(st *metadata.State, op metadata.OwnedPartition) (*partition, error) {
	t := op.Topic
	dir := filepath.Join(ps.root, t.Name, t.PartitionDir(op.Partition))
	opts, err := logOptions(st.ClusterConfig, t.Configs)
	if err != nil {
		return nil, fmt.Errorf("topic %s: %w", t.Name, err)
	}
	l, err := storage.Open(dir, opts, storage.Env{Flusher: ps.s.cfg.Flusher, Logger: ps.s.log})
	if err != nil {
		return nil, fmt.Errorf("open %s/%d: %w", t.Name, op.Partition, err)
	}
	p := newPartition(ps, t, op.Partition, l)
	if err := p.recoverProducers(); err != nil {
		l.Close()
		return nil, fmt.Errorf("recover producers of %s/%d: %w", t.Name, op.Partition, err)
	}
	group := fmt.Sprintf("%s/%d/%d", t.Name, op.Partition, t.Revision)
	if p.rep, err = startReplica(p, ps.stable, group); err != nil {
		l.Close()
		return nil, fmt.Errorf("raft group of %s/%d: %w", t.Name, op.Partition, err)
	}
	// Hooks: a __consumer_offsets partition rebuilds its groups, and a
	// __transaction_state partition its transactions, from the log before
	// it is served (group_coord.go, txn_coord.go).
	if err := ps.s.groups.load(p); err != nil {
		p.close()
		return nil, err
	}
	if err := ps.s.txns.load(p); err != nil {
		p.close()
		return nil, err
	}
	ps.s.log.Info("partition opened", "topic", t.Name, "partition", op.Partition,
		"start_offset", l.StartOffset(), "end_offset", l.EndOffset())
	return p, nil
}

func (ps *partitions) closeAll() error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var errs []error
	for k, p := range ps.open {
		if err := p.close(); err != nil {
			errs = append(errs, err)
		}
		delete(ps.open, k)
	}
	if ps.stable != nil {
		errs = append(errs, ps.stable.Close())
		ps.stable = nil
	}
	return errors.Join(errs...)
}

// openStable opens the shard's shared Raft term/vote store.
func (ps *partitions) openStable(dataDir string, shard int) error {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	st, err := raftlog.OpenSharedStable(filepath.Join(dataDir, fmt.Sprintf("shard-%d.raft.db", shard)), 10*time.Second)
	if err != nil {
		return fmt.Errorf("raft state store: %w", err)
	}
	ps.stable = st
	return nil
}

func (ps *partitions) count() int {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	return len(ps.open)
}

// all returns the open partitions.
func (ps *partitions) all() []*partition {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	out := make([]*partition, 0, len(ps.open))
	for _, p := range ps.open {
		out = append(out, p)
	}
	return out
}
