package raftlog

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/testkit"
)

// singleVoterBatches is the size of the single-voter test: 100,000, 20,000
// with -short; AILURUS_RAFTLOG_N overrides it.
func singleVoterBatches(t *testing.T) int {
	if s := os.Getenv("AILURUS_RAFTLOG_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if testing.Short() {
		return 20_000
	}
	return 100_000
}

// TestRaftlogSingleVoterApplyRestart applies many small batches through a
// single-voter group, restarts everything (raft, store, partition log, bolt
// file) and checks that every committed batch reads back, through the Kafka
// read path and through GetLog, with contiguous offsets and intact records.
func TestRaftlogSingleVoterApplyRestart(t *testing.T) {
	total := singleVoterBatches(t)
	dir := t.TempDir()
	n := newNode(t, "n1", dir, fastConfig("n1"))
	n.start()
	if err := n.raft.BootstrapCluster(raft.Configuration{Servers: []raft.Server{
		{ID: "n1", Address: n.addr()}}}).Error(); err != nil {
		t.Fatal(err)
	}
	waitLeader(t, 10*time.Second, n)

	orig := make([][]byte, total)
	for i := range orig {
		orig[i] = testBatch(int64(i))
	}
	in := make([][]byte, total)
	for i := range in {
		in[i] = append([]byte(nil), orig[i]...)
	}
	syncsBefore := n.part.log.Stats().Syncs
	start := time.Now()
	offs := applyAll(t, n.raft, in, 8, 128)
	took := time.Since(start)
	syncs := n.part.log.Stats().Syncs - syncsBefore
	t.Logf("applied %d batches in %v: %.0f batches/s, %d partition log fsyncs (%.1f batches per fsync)",
		total, took.Round(time.Millisecond), float64(total)/took.Seconds(), syncs, float64(total)/float64(max(syncs, 1)))
	lastIndex := n.raft.LastIndex()

	// Restart everything on the same files.
	n.stop()
	n.part.reopen()
	if err := n.stable.Close(); err != nil {
		t.Fatal(err)
	}
	var err error
	if n.stable, err = OpenSharedStable(dir+"/raft.db", time.Second); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	n.start()
	waitLeader(t, 20*time.Second, n)
	// The fresh FSM replays the whole log, read back through GetLog.
	testkit.CheckFor(t, 60*time.Second, func() error {
		if c := n.fsm.count(); c != total {
			return fmt.Errorf("fsm replayed %d of %d batches", c, total)
		}
		return nil
	})
	t.Logf("restart and replay of %d entries through GetLog: %v", lastIndex, time.Since(start).Round(time.Millisecond))

	// Kafka read path: contiguous offsets from 0, every batch intact.
	kb := kafkaBatches(t, n.part.log)
	if len(kb) != total {
		t.Fatalf("kafka log has %d batches, want %d", len(kb), total)
	}
	seen := make([]bool, total)
	next := int64(0)
	for i, b := range kb {
		h, _ := batch.Parse(b)
		if h.BaseOffset != next {
			t.Fatalf("kafka batch %d at offset %d, want %d", i, h.BaseOffset, next)
		}
		next = h.NextOffset()
		id := h.BaseTimestamp
		if id < 0 || id >= int64(total) || seen[id] {
			t.Fatalf("kafka batch %d: unknown or repeated batch id %d", i, id)
		}
		seen[id] = true
		if !sameBatch(orig[id], b) {
			t.Fatalf("kafka batch %d (id %d) differs from what was applied", i, id)
		}
		if offs[id] != h.BaseOffset {
			t.Fatalf("batch id %d: apply answered offset %d, log has it at %d", id, offs[id], h.BaseOffset)
		}
	}

	// Replay through GetLog: same order, same offsets, term = epoch.
	rep := n.fsm.snapshotOf()
	for i, a := range rep {
		h, _ := batch.Parse(kb[i])
		if a.base != h.BaseOffset || a.id != h.BaseTimestamp || int64(a.term) != int64(a.epoch) || a.epoch != h.LeaderEpoch {
			t.Fatalf("replayed batch %d: %+v, kafka log has offset %d id %d epoch %d", i, a, h.BaseOffset, h.BaseTimestamp, h.LeaderEpoch)
		}
	}
	// And a direct GetLog of every replayed index gives the stored bytes.
	for i, a := range rep {
		var l raft.Log
		if err := n.part.st.GetLog(a.index, &l); err != nil {
			t.Fatalf("GetLog(%d): %v", a.index, err)
		}
		if l.Type != raft.LogCommand || !bytes.Equal(l.Data, kb[i]) {
			t.Fatalf("GetLog(%d) differs from kafka batch %d", a.index, i)
		}
	}
}
