package controller

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/metadata"
)

// Test harness. Logs are off unless AILURUS_TEST_LOG is set.

const testTimeout = 10 * time.Second

// testNode is one controller under test and where it lives, so it can be
// closed and reopened on the same Dir and Raft address.
type testNode struct {
	t       *testing.T
	cfg     Config
	c       *Controller
	changes *changeLog
}

// changeLog records OnChange calls.
type changeLog struct {
	mu  sync.Mutex
	all []metadata.Change
}

func (l *changeLog) record(ch metadata.Change) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, ch)
}

func (l *changeLog) get() []metadata.Change {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]metadata.Change(nil), l.all...)
}

func (l *changeLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = nil
}

// testConfig is a fast single-voter configuration in a temporary directory.
func testConfig(t *testing.T, nodeID int32) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.NodeID = nodeID
	cfg.Dir = t.TempDir()
	cfg.Bootstrap = true
	cfg.HeartbeatTimeout = 50 * time.Millisecond
	cfg.ElectionTimeout = 50 * time.Millisecond
	cfg.LeaderLeaseTimeout = 50 * time.Millisecond
	cfg.CommitTimeout = 5 * time.Millisecond
	cfg.ApplyTimeout = testTimeout
	if os.Getenv("AILURUS_TEST_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return cfg
}

// runNode opens a controller with cfg (a fresh in-memory transport at
// cfg's address, or a new address) and closes it at the end of the test.
// With ready it waits for leadership and registers broker nodeID with 4 shards.
func runNode(t *testing.T, cfg Config, ready bool) *testNode {
	t.Helper()
	n := &testNode{t: t, cfg: cfg, changes: &changeLog{}}
	n.open(ready)
	return n
}

func (n *testNode) open(ready bool) {
	t := n.t
	t.Helper()
	addr := raft.NewInmemAddr()
	if n.cfg.Transport != nil {
		addr = n.cfg.Transport.LocalAddr() // reopen: same Raft address
	}
	_, trans := raft.NewInmemTransport(addr)
	n.cfg.Transport = trans
	n.cfg.OnChange = n.changes.record
	c, err := Open(n.cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	n.c = c
	t.Cleanup(func() { _ = c.Close() })
	if !ready {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	b := metadata.Broker{NodeID: n.cfg.NodeID, KafkaAddr: "localhost:9092", Shards: 4}
	if _, err := c.RegisterBroker(ctx, b); err != nil {
		t.Fatalf("RegisterBroker: %v", err)
	}
}

// reopen closes the controller and opens it again on the same Dir.
func (n *testNode) reopen() {
	n.t.Helper()
	if err := n.c.Close(); err != nil {
		n.t.Fatalf("Close: %v", err)
	}
	n.changes.reset()
	n.open(true)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// mustCreate creates a topic with rf 1 or fails the test.
func (n *testNode) mustCreate(name string, partitions int32, configs map[string]string) *metadata.Topic {
	n.t.Helper()
	ch, err := n.c.CreateTopic(ctxT(n.t), CreateTopicRequest{
		Name: name, Partitions: partitions, ReplicationFactor: 1, Configs: configs,
	})
	if err != nil {
		n.t.Fatalf("CreateTopic(%s): %v", name, err)
	}
	return ch.Topic
}
