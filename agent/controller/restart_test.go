package controller

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/metadata"
)

// busyState creates, alters, grows and deletes topics so a State has a bit of
// everything.
func busyState(t *testing.T, n *testNode) {
	t.Helper()
	for i := range 5 {
		n.mustCreate(fmt.Sprintf("topic-%d", i), int32(i+1), map[string]string{"retention.ms": fmt.Sprint(i)})
	}
	ctx := ctxT(t)
	if _, err := n.c.AlterTopicConfig(ctx, AlterTopicConfigRequest{Topic: "topic-1", Set: map[string]string{"cleanup.policy": "compact"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.c.CreatePartitions(ctx, CreatePartitionsRequest{Topic: "topic-0", Count: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.c.DeleteTopic(ctx, "topic-3"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.c.SetClusterConfig(ctx, map[string]string{"log_segment_size": "1048576"}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestControllerRestartKeepsState(t *testing.T) {
	n := runNode(t, testConfig(t, 1), true)
	busyState(t, n)
	before := n.c.Snapshot()

	n.reopen()
	after := n.c.Snapshot()
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("state changed across restart:\nbefore %+v\nafter  %+v", before, after)
	}
	for name, tb := range before.Topics {
		ta := after.Topics[name]
		if ta.ID != tb.ID || ta.Revision != tb.Revision {
			t.Errorf("%s: id/revision %s/%d became %s/%d", name, tb.ID, tb.Revision, ta.ID, ta.Revision)
		}
	}
	// Replayed entries were announced again, in order, up to the same version.
	chs := n.changes.get()
	for i, ch := range chs {
		if ch.Version != uint64(i+1) {
			t.Fatalf("changes after restart have versions %v, want 1..%d", versions(chs), after.Version)
		}
	}
	if lastVersion(chs) != after.Version {
		t.Errorf("changes after restart end at %d, want version %d", lastVersion(chs), after.Version)
	}
	// New topics after a restart get later revisions than every old one.
	fresh := n.mustCreate("fresh", 1, nil)
	for _, tb := range before.Topics {
		if fresh.Revision <= tb.Revision {
			t.Errorf("new topic revision %d <= old revision %d of %s", fresh.Revision, tb.Revision, tb.Name)
		}
	}
}

func TestControllerOnChangeInVersionOrder(t *testing.T) {
	n := runNode(t, testConfig(t, 1), true)
	busyState(t, n)
	// Failures and no-ops in between must not show up or leave gaps.
	_, _ = n.c.CreateTopic(ctxT(t), CreateTopicRequest{Name: "topic-0", Partitions: 1, ReplicationFactor: 1})
	_, _ = n.c.SetClusterConfig(ctxT(t), map[string]string{"log_segment_size": "1048576"}, nil)

	// Concurrent writers: the callback still sees one ordered sequence.
	errs := make(chan error, 20)
	for i := range 20 {
		go func() {
			_, err := n.c.CreateTopic(ctxT(t), CreateTopicRequest{Name: fmt.Sprintf("c-%d", i), Partitions: 2, ReplicationFactor: 1})
			errs <- err
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}

	chs := n.changes.get()
	for i, ch := range chs {
		if ch.Version != uint64(i+1) {
			t.Fatalf("change %d has version %d, want %d (changes %v)", i, ch.Version, i+1, kinds(chs))
		}
	}
	if got := lastVersion(chs); got != n.c.State().Version {
		t.Errorf("last change version %d, state version %d", got, n.c.State().Version)
	}
	wantStart := []metadata.ChangeKind{metadata.ChangeClusterInitialized, metadata.ChangeBrokerRegistered, metadata.ChangeTopicCreated}
	if got := kinds(chs)[:3]; !reflect.DeepEqual(got, wantStart) {
		t.Errorf("first changes %v, want %v", got, wantStart)
	}
	created := 0
	for _, ch := range chs {
		if ch.Kind == metadata.ChangeTopicCreated {
			created++
		}
	}
	if created != 25 {
		t.Errorf("%d topic_created changes, want 25", created)
	}
}

func TestControllerSnapshotRestore(t *testing.T) {
	cfg := testConfig(t, 1)
	cfg.TrailingLogs = 1 // compact the log to the snapshot: a reopen must read it
	n := runNode(t, cfg, true)
	busyState(t, n)
	if err := n.c.raft.Snapshot().Error(); err != nil {
		t.Fatalf("raft snapshot: %v", err)
	}
	snapVersion := n.c.State().Version
	// Entries after the snapshot come back from the log.
	n.mustCreate("after-snapshot", 2, nil)
	if _, err := n.c.DeleteTopic(ctxT(t), "topic-4"); err != nil {
		t.Fatal(err)
	}
	before := n.c.Snapshot()
	first, err := n.c.store.FirstIndex()
	if err != nil || first <= 1 {
		t.Fatalf("log not compacted by the snapshot: first index %d, %v", first, err)
	}

	n.reopen()
	if after := n.c.Snapshot(); !reflect.DeepEqual(before, after) {
		t.Fatalf("state changed across snapshot and restore:\nbefore %+v\nafter  %+v", before, after)
	}
	chs := n.changes.get()
	if len(chs) == 0 || chs[0].Kind != metadata.ChangeStateReset || chs[0].Version != snapVersion {
		t.Fatalf("first change after reopen = %v, want state_reset at %d", firstChange(chs), snapVersion)
	}
	for i := 1; i < len(chs); i++ {
		if chs[i].Version != chs[i-1].Version+1 {
			t.Fatalf("versions after restore: %v has a gap", versions(chs))
		}
	}
	if lastVersion(chs) != before.Version {
		t.Errorf("changes end at %d, want %d", lastVersion(chs), before.Version)
	}
}

func TestControllerNotLeader(t *testing.T) {
	cfg := testConfig(t, 2)
	cfg.Bootstrap = false // a node waiting to join: no voter set, no leader
	n := runNode(t, cfg, false)
	_, err := n.c.CreateTopic(ctxT(t), CreateTopicRequest{Name: "t", Partitions: 1, ReplicationFactor: 1})
	if !errors.Is(err, ErrNotController) || ErrorCode(err) != 41 {
		t.Errorf("CreateTopic on a non-leader = %v, want ErrNotController (41)", err)
	}
	if _, err := n.c.CreateTopic(ctxT(t), CreateTopicRequest{Name: "t", Partitions: 1, ReplicationFactor: 1, ValidateOnly: true}); !errors.Is(err, ErrNotController) {
		t.Errorf("validate-only on a non-leader = %v, want ErrNotController", err)
	}
	if _, ok := n.c.Leader(); ok || n.c.IsLeader() {
		t.Error("a node with no voter set claims to know a leader")
	}
}

func TestControllerClose(t *testing.T) {
	n := runNode(t, testConfig(t, 1), true)
	if id, ok := n.c.Leader(); !ok || id != 1 || !n.c.IsLeader() {
		t.Errorf("Leader() = %d, %v; want 1, true", id, ok)
	}
	if err := n.c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := n.c.CreateTopic(ctxT(t), CreateTopicRequest{Name: "t", Partitions: 1, ReplicationFactor: 1}); !errors.Is(err, ErrClosed) {
		t.Errorf("CreateTopic after Close = %v, want ErrClosed", err)
	}
	if err := n.c.WaitReady(ctxT(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitReady after Close = %v", err)
	}
}

func TestControllerOpenFailsWhileDirInUse(t *testing.T) {
	n := runNode(t, testConfig(t, 1), true)
	cfg := n.cfg
	cfg.LockTimeout = 50 * time.Millisecond
	_, trans := raft.NewInmemTransport(raft.NewInmemAddr())
	cfg.Transport = trans
	if c, err := Open(cfg); err == nil {
		_ = c.Close()
		t.Fatal("a second controller opened the same Dir")
	}
	// The first one is unaffected.
	n.mustCreate("still-works", 1, nil)
}

func kinds(chs []metadata.Change) []metadata.ChangeKind {
	out := make([]metadata.ChangeKind, len(chs))
	for i, ch := range chs {
		out[i] = ch.Kind
	}
	return out
}

func versions(chs []metadata.Change) []uint64 {
	out := make([]uint64, len(chs))
	for i, ch := range chs {
		out[i] = ch.Version
	}
	return out
}

func lastVersion(chs []metadata.Change) uint64 {
	if len(chs) == 0 {
		return 0
	}
	return chs[len(chs)-1].Version
}

func firstChange(chs []metadata.Change) any {
	if len(chs) == 0 {
		return "none"
	}
	return chs[0]
}
