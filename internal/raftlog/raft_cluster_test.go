package raftlog

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/testkit"
)

func connectAll(nodes ...*node) {
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				a.trans.Connect(b.addr(), b.trans)
			}
		}
	}
}

// isolate cuts n off from the others, both ways.
func isolate(n *node, others ...*node) {
	n.trans.DisconnectAll()
	for _, o := range others {
		o.trans.Disconnect(n.addr())
	}
}

// TestRaftlogThreeVotersFailover runs a three-voter group over the in-memory
// transport, each voter with its own partition log. The leader is cut off
// while it holds a divergent, uncommitted tail, then shut down; the survivors
// elect a new leader and take more batches; the old leader comes back and
// must converge: its tail truncated, its Kafka log byte for byte the others'.
func TestRaftlogThreeVotersFailover(t *testing.T) {
	dir := t.TempDir()
	var nodes []*node
	var servers []raft.Server
	for i := 0; i < 3; i++ {
		id := fmt.Sprintf("n%d", i)
		n := newNode(t, id, dir+"/"+id, clusterConfig(id))
		n.start()
		nodes = append(nodes, n)
		servers = append(servers, raft.Server{ID: raft.ServerID(id), Address: n.addr()})
	}
	connectAll(nodes...)
	if err := nodes[0].raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil {
		t.Fatal(err)
	}
	leader := waitLeader(t, 10*time.Second, nodes...)

	const first, divergent, second = 3000, 40, 2000
	applyAll(t, leader.raft, testBatches(0, first), 4, 64)
	waitApplied(t, first, nodes...)

	// Cut the leader off and give it entries it can never commit.
	var survivors []*node
	for _, n := range nodes {
		if n != leader {
			survivors = append(survivors, n)
		}
	}
	old := leader
	isolate(old, survivors...)
	lastBefore := old.raft.LastIndex()
	for _, b := range testBatches(1_000_000, divergent) {
		old.raft.Apply(b, 50*time.Millisecond) // fails once it steps down
	}
	testkit.CheckFor(t, 10*time.Second, func() error {
		if li, _ := old.part.st.LastIndex(); li < lastBefore+divergent {
			return fmt.Errorf("old leader stored up to %d, want %d", li, lastBefore+divergent)
		}
		return nil
	})
	old.stop()
	if n := len(kafkaBatches(t, old.part.log)); n != first+divergent {
		t.Fatalf("old leader's kafka log has %d batches, want %d with its divergent tail", n, first+divergent)
	}

	leader = waitLeader(t, 10*time.Second, survivors...)
	applyAll(t, leader.raft, testBatches(first, second), 4, 64)
	waitApplied(t, first+second, survivors...)
	agree(t, survivors[0], survivors[1])
	kb := kafkaBatches(t, leader.part.log)
	h0, _ := batch.Parse(kb[0])
	hn, _ := batch.Parse(kb[len(kb)-1])
	if hn.LeaderEpoch <= h0.LeaderEpoch {
		t.Fatalf("leader epoch %d after failover, %d before: the term must have moved", hn.LeaderEpoch, h0.LeaderEpoch)
	}

	// The old leader returns on reopened stores and must converge.
	old.part.reopen()
	old.start()
	connectAll(nodes...)
	testkit.CheckFor(t, 20*time.Second, func() error {
		want := leader.raft.LastIndex()
		if li, _ := old.part.st.LastIndex(); li != want {
			return fmt.Errorf("old leader at index %d, leader at %d", li, want)
		}
		if c := old.fsm.count(); c != first+second {
			return fmt.Errorf("old leader applied %d of %d batches", c, first+second)
		}
		return nil
	})
	agree(t, leader, old)
	for _, b := range kafkaBatches(t, old.part.log) {
		if h, _ := batch.Parse(b); h.BaseTimestamp >= 1_000_000 {
			t.Fatalf("divergent batch %d survived at offset %d", h.BaseTimestamp, h.BaseOffset)
		}
	}
}

// clusterConfig has timeouts long enough that a leader on a loaded 2-core
// machine does not lose its lease in the middle of the test's applies.
func clusterConfig(id string) *raft.Config {
	c := fastConfig(id)
	c.HeartbeatTimeout = 400 * time.Millisecond
	c.ElectionTimeout = 400 * time.Millisecond
	c.LeaderLeaseTimeout = 300 * time.Millisecond
	return c
}

func testBatches(from, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = testBatch(int64(from + i))
	}
	return out
}

func waitApplied(t *testing.T, n int, nodes ...*node) {
	t.Helper()
	testkit.CheckFor(t, 20*time.Second, func() error {
		for _, nd := range nodes {
			if c := nd.fsm.count(); c < n {
				return fmt.Errorf("node %s applied %d of %d batches", nd.id, c, n)
			}
		}
		return nil
	})
}

// agree checks that two voters hold the same log: the same Raft entries
// (index, term, type, bytes) and the same Kafka batches (offsets, epochs,
// bytes).
func agree(t *testing.T, a, b *node) {
	t.Helper()
	fa, _ := a.part.st.FirstIndex()
	la, _ := a.part.st.LastIndex()
	fb, _ := b.part.st.FirstIndex()
	lb, _ := b.part.st.LastIndex()
	if fa != fb || la != lb {
		t.Fatalf("%s holds [%d, %d], %s holds [%d, %d]", a.id, fa, la, b.id, fb, lb)
	}
	for idx := fa; idx <= la; idx++ {
		var x, y raft.Log
		if err := a.part.st.GetLog(idx, &x); err != nil {
			t.Fatalf("%s GetLog(%d): %v", a.id, idx, err)
		}
		if err := b.part.st.GetLog(idx, &y); err != nil {
			t.Fatalf("%s GetLog(%d): %v", b.id, idx, err)
		}
		if x.Term != y.Term || x.Type != y.Type || !bytes.Equal(x.Data, y.Data) || !bytes.Equal(x.Extensions, y.Extensions) {
			t.Fatalf("index %d: %s has %v term %d, %s has %v term %d (same data %v)",
				idx, a.id, x.Type, x.Term, b.id, y.Type, y.Term, bytes.Equal(x.Data, y.Data))
		}
	}
	ka, kb := kafkaBatches(t, a.part.log), kafkaBatches(t, b.part.log)
	if len(ka) != len(kb) {
		t.Fatalf("%s has %d kafka batches, %s has %d", a.id, len(ka), b.id, len(kb))
	}
	next := int64(0)
	for i := range ka {
		h, _ := batch.Parse(ka[i])
		if h.BaseOffset != next || !bytes.Equal(ka[i], kb[i]) {
			t.Fatalf("kafka batch %d: offset %d (want %d), same bytes %v", i, h.BaseOffset, next, bytes.Equal(ka[i], kb[i]))
		}
		next = h.NextOffset()
	}
}
