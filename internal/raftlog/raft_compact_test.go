package raftlog

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/testkit"
)

// TestRaftlogSnapshotCompactionKeepsKafkaData lets raft snapshot and compact
// its log while batches are applied: the Raft view loses its prefix, the
// Kafka log keeps every batch, and a restart starts from the snapshot with
// the same first index.
func TestRaftlogSnapshotCompactionKeepsKafkaData(t *testing.T) {
	const total = 3000
	conf := fastConfig("n1")
	conf.SnapshotThreshold = 500
	conf.SnapshotInterval = 20 * time.Millisecond
	conf.TrailingLogs = 100
	n := newNode(t, "n1", t.TempDir(), conf)
	n.start()
	if err := n.raft.BootstrapCluster(raft.Configuration{Servers: []raft.Server{
		{ID: "n1", Address: n.addr()}}}).Error(); err != nil {
		t.Fatal(err)
	}
	waitLeader(t, 10*time.Second, n)
	applyAll(t, n.raft, testBatches(0, total), 4, 64)
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	first, _ := n.part.st.FirstIndex()
	last, _ := n.part.st.LastIndex()
	if first < last-200 {
		t.Fatalf("raft log [%d, %d] not compacted to about TrailingLogs entries", first, last)
	}
	var l raft.Log
	if err := n.part.st.GetLog(first-1, &l); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("GetLog below the first index after compaction: %v", err)
	}
	checkKafka := func() {
		t.Helper()
		kb := kafkaBatches(t, n.part.log)
		if len(kb) != total || n.part.log.StartOffset() != 0 {
			t.Fatalf("kafka log has %d batches from offset %d, want %d from 0", len(kb), n.part.log.StartOffset(), total)
		}
		next := int64(0)
		for _, b := range kb {
			h, _ := batch.Parse(b)
			if h.BaseOffset != next {
				t.Fatalf("kafka batch at %d, want %d", h.BaseOffset, next)
			}
			next = h.NextOffset()
		}
	}
	checkKafka()

	n.stop()
	n.part.reopen()
	if f, _ := n.part.st.FirstIndex(); f != first {
		t.Fatalf("first index %d after restart, was %d", f, first)
	}
	n.start()
	waitLeader(t, 10*time.Second, n)
	// The FSM restored the snapshot and replays only what follows it.
	testkit.CheckFor(t, 10*time.Second, func() error {
		if n.raft.AppliedIndex() < last {
			return fmt.Errorf("applied %d of %d", n.raft.AppliedIndex(), last)
		}
		return nil
	})
	applyAll(t, n.raft, testBatches(total, 10), 1, 10)
	kb := kafkaBatches(t, n.part.log)
	if len(kb) != total+10 {
		t.Fatalf("kafka log has %d batches after restart and 10 more, want %d", len(kb), total+10)
	}
}
