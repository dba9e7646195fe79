package raftlog

import (
	"encoding/binary"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/testkit"
)

// applied is what the test FSM saw of one batch entry.
type applied struct {
	index, term uint64
	base, last  int64 // Kafka offsets, as the log store assigned them
	epoch       int32
	id          int64 // the batch's first timestamp: which test batch it is
}

// recFSM records the batches applied to it. Its snapshot is only the number
// of entries applied (the Kafka data is the log itself).
type recFSM struct {
	mu      sync.Mutex
	applied []applied
	other   int // non-batch commands applied
}

func (f *recFSM) Apply(l *raft.Log) any {
	if !IsBatch(l) {
		f.mu.Lock()
		f.other++
		f.mu.Unlock()
		return nil
	}
	h, err := batch.Check(l.Data)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.applied = append(f.applied, applied{index: l.Index, term: l.Term, base: h.BaseOffset,
		last: h.LastOffset(), epoch: h.LeaderEpoch, id: h.BaseTimestamp})
	f.mu.Unlock()
	return h.BaseOffset
}

func (f *recFSM) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.applied)
}

func (f *recFSM) snapshotOf() []applied {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]applied(nil), f.applied...)
}

func (f *recFSM) Snapshot() (raft.FSMSnapshot, error) {
	return countSnap(f.count()), nil
}

func (f *recFSM) Restore(r io.ReadCloser) error {
	defer r.Close()
	var b [8]byte
	_, err := io.ReadFull(r, b[:])
	return err
}

type countSnap int

func (c countSnap) Persist(s raft.SnapshotSink) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(c))
	if _, err := s.Write(b[:]); err != nil {
		s.Cancel()
		return err
	}
	return s.Close()
}

func (countSnap) Release() {}

// node is one Raft voter over a partition's store, restartable.
type node struct {
	t      *testing.T
	id     string
	part   *partition
	stable *SharedStable
	snaps  raft.SnapshotStore
	trans  *raft.InmemTransport
	fsm    *recFSM
	raft   *raft.Raft
	conf   *raft.Config
}

func newNode(t *testing.T, id, dir string, conf *raft.Config) *node {
	t.Helper()
	n := &node{t: t, id: id, conf: conf}
	n.part = openPartition(t, filepath.Join(dir, "kafka", "p0"))
	snaps, err := raft.NewFileSnapshotStoreWithLogger(filepath.Join(dir, "snaps"), 2, raftLogger())
	if err != nil {
		t.Fatal(err)
	}
	n.snaps = snaps
	if n.stable, err = OpenSharedStable(filepath.Join(dir, "raft.db"), time.Second); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.stop(); n.stable.Close() })
	return n
}

func (n *node) addr() raft.ServerAddress { return raft.ServerAddress(n.id) }

// start runs Raft on the node's stores with a fresh FSM and transport.
func (n *node) start() {
	n.t.Helper()
	_, n.trans = raft.NewInmemTransport(n.addr())
	n.fsm = &recFSM{}
	stable, err := n.stable.Group("kafka/t/0")
	if err != nil {
		n.t.Fatal(err)
	}
	if err := CheckConfig(n.conf); err != nil {
		n.t.Fatal(err)
	}
	r, err := raft.NewRaft(n.conf, n.fsm, n.part.st, stable, n.snaps, n.trans)
	if err != nil {
		n.t.Fatalf("node %s: new raft: %v", n.id, err)
	}
	n.raft = r
}

func (n *node) stop() {
	if n.raft != nil {
		n.raft.Shutdown().Error()
		n.raft = nil
	}
}

func waitLeader(t *testing.T, timeout time.Duration, nodes ...*node) *node {
	t.Helper()
	var leader *node
	testkit.CheckFor(t, timeout, func() error {
		for _, n := range nodes {
			if n.raft != nil && n.raft.State() == raft.Leader {
				leader = n
				return nil
			}
		}
		return fmt.Errorf("no leader among %d nodes", len(nodes))
	})
	return leader
}

// applyAll applies batches through r from workers goroutines, each keeping up
// to window futures in flight, and returns each batch's assigned base
// offset by position in batches.
func applyAll(t *testing.T, r *raft.Raft, batches [][]byte, workers, window int) []int64 {
	t.Helper()
	offs := make([]int64, len(batches))
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			type pend struct {
				i int
				f raft.ApplyFuture
			}
			var q []pend
			wait := func(p pend) bool {
				if err := p.f.Error(); err != nil {
					errs <- fmt.Errorf("apply batch %d: %w", p.i, err)
					return false
				}
				off, ok := p.f.Response().(int64)
				if !ok {
					errs <- fmt.Errorf("apply batch %d: fsm answered %v", p.i, p.f.Response())
					return false
				}
				offs[p.i] = off
				return true
			}
			for i := w; i < len(batches); i += workers {
				q = append(q, pend{i, r.Apply(batches[i], 30*time.Second)})
				if len(q) >= window {
					if !wait(q[0]) {
						return
					}
					q = q[1:]
				}
			}
			for _, p := range q {
				if !wait(p) {
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return offs
}
