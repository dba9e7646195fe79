package shard

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestReplicaBootstrapInterrupted: hashicorp/raft's BootstrapCluster stores
// the term before the configuration entry, so a shard killed between the two
// leaves a group with a term and no log. Such a partition must still elect
// itself and take writes when it opens again, not wait forever for a
// configuration it will never get.
func TestReplicaBootstrapInterrupted(t *testing.T) {
	s := testShardWith(t, func(s *Shard) {
		st, err := s.parts.stable.Group("t/0/1")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.SetUint64([]byte("CurrentTerm"), 1); err != nil {
			t.Fatal(err)
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Second)
	defer cancel()
	p := s.parts.await(ctx, "t", 0)
	if p == nil {
		t.Fatal("partition t/0 did not become leader after an interrupted bootstrap")
	}
	if r := p.commit(p.write(idempotentBatch(7, 0, 0, 2))); r.errCode != 0 || r.base != 0 {
		t.Fatalf("produce after an interrupted bootstrap: %+v", r)
	}
}

// TestReplicaSnapshotOnClose: a partition closed with many entries since
// its last Raft snapshot takes one, so the next start does not re-apply
// them all; its data reads back the same after the restart.
func TestReplicaSnapshotOnClose(t *testing.T) {
	old := snapshotOnCloseAfter
	snapshotOnCloseAfter = 10
	defer func() { snapshotOnCloseAfter = old }()
	s := testShard(t)
	p := s.parts.await(t.Context(), "t", 0)
	if p == nil {
		t.Fatal("partition t/0 not open")
	}
	for i := range 20 {
		if r := p.commit(p.write(idempotentBatch(9, 0, int32(i), 1))); r.errCode != 0 {
			t.Fatalf("produce %d: %+v", i, r)
		}
	}
	dir := p.log.Dir()
	if err := s.parts.closeAll(); err != nil {
		t.Fatal(err)
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "raft-snapshots", "snapshots", "*", "meta.json"))
	if len(snaps) != 1 {
		t.Fatalf("snapshots after close: %v, want one", snaps)
	}
	if err := s.parts.openStable(s.cfg.DataDir, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.parts.reconcile(); err != nil {
		t.Fatal(err)
	}
	p = s.parts.await(t.Context(), "t", 0)
	if p == nil {
		t.Fatal("partition t/0 not open after restart")
	}
	if hw := p.hw.Load(); hw != 20 {
		t.Fatalf("high watermark after restart: %d, want 20", hw)
	}
	if r := p.commit(p.write(idempotentBatch(9, 0, 20, 1))); r.errCode != 0 || r.base != 20 {
		t.Fatalf("produce after restart: %+v", r)
	}
}
