package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ailurus/ailurus/internal/testkit"
)

// fakeController answers snapshot requests with its current version and
// publishes updates on demand, as the agent does.
type fakeController struct {
	t    *testing.T
	conn *Conn

	mu          sync.Mutex
	version     uint64
	requests    []MetaSnapshotRequest
	beforeReply func() // runs in the responder before it replies, once
}

func newFakeController(t *testing.T, s *Server, version uint64) *fakeController {
	fc := &fakeController{t: t, conn: connect(t, s, "agent"), version: version}
	fc.serve()
	return fc
}

func (fc *fakeController) serve() {
	if _, err := Respond(fc.conn, SubjMetaSnapshot, func(r MetaSnapshotRequest) MetaSnapshot {
		fc.mu.Lock()
		hook := fc.beforeReply
		fc.beforeReply = nil
		fc.requests = append(fc.requests, r)
		fc.mu.Unlock()
		if hook != nil {
			hook()
		}
		fc.mu.Lock()
		defer fc.mu.Unlock()
		return MetaSnapshot{Version: fc.version, Payload: payloadFor(fc.version)}
	}); err != nil {
		fc.t.Fatal(err)
	}
	flush(fc.t, fc.conn)
}

func (fc *fakeController) setVersion(v uint64) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.version = v
}

func (fc *fakeController) snapshotRequests() []MetaSnapshotRequest {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return slices.Clone(fc.requests)
}

// publish sends one update per version, in the order given, and flushes.
// Safe from the responder's goroutine.
func (fc *fakeController) publish(versions ...uint64) {
	for _, v := range versions {
		if err := Publish(fc.conn, SubjMetaUpdate, MetaUpdate{Version: v, Kind: "test", Payload: payloadFor(v)}); err != nil {
			fc.t.Error(err)
		}
	}
	if err := fc.conn.Flush(context.Background()); err != nil {
		fc.t.Error(err)
	}
}

func payloadFor(v uint64) json.RawMessage {
	return json.RawMessage(`{"v":` + strconv.FormatUint(v, 10) + `}`)
}

// recorder is the shard side: it records what the follower applied and
// checks each payload matches its version.
type recorder struct {
	t          *testing.T
	mu         sync.Mutex
	snapshots  []uint64
	updates    []uint64
	failUpdate map[uint64]int // version -> how many more times OnUpdate fails
}

func (r *recorder) onSnapshot(s MetaSnapshot) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if string(s.Payload) != string(payloadFor(s.Version)) {
		r.t.Errorf("snapshot %d payload %s", s.Version, s.Payload)
	}
	r.snapshots = append(r.snapshots, s.Version)
	return nil
}

func (r *recorder) onUpdate(u MetaUpdate) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if string(u.Payload) != string(payloadFor(u.Version)) || u.Kind != "test" {
		r.t.Errorf("update %d kind %q payload %s", u.Version, u.Kind, u.Payload)
	}
	if r.failUpdate[u.Version] > 0 {
		r.failUpdate[u.Version]--
		return errors.New("injected apply failure")
	}
	r.updates = append(r.updates, u.Version)
	return nil
}

// expect polls until the recorder has exactly these snapshots and updates.
func (r *recorder) expect(t *testing.T, snapshots, updates []uint64) {
	t.Helper()
	testkit.CheckFor(t, 5*time.Second, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if !slices.Equal(r.snapshots, snapshots) || !slices.Equal(r.updates, updates) {
			return fmt.Errorf("snapshots %v updates %v, want %v %v", r.snapshots, r.updates, snapshots, updates)
		}
		return nil
	})
}

// runFollower starts a follower on its own connection; it is stopped and its
// Run result checked at cleanup.
func runFollower(t *testing.T, s *Server, r *recorder) *MetaFollower {
	t.Helper()
	f, err := NewMetaFollower(connect(t, s, "shard-0"), MetaFollowerConfig{
		Name:       "shard-0",
		OnSnapshot: r.onSnapshot,
		OnUpdate:   r.onUpdate,
		RetryWait:  10 * time.Millisecond,
		Logger:     testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
	return f
}

func waitSynced(t *testing.T, f *MetaFollower) {
	t.Helper()
	waitClosed(t, f.Synced(), 5*time.Second, "follower synced")
}

func TestMetaFollowerSnapshotThenUpdatesInOrder(t *testing.T) {
	s := runServer(t)
	fc := newFakeController(t, s, 5)
	r := &recorder{t: t}
	f := runFollower(t, s, r)
	waitSynced(t, f)
	if f.Version() != 5 {
		t.Fatalf("version %d after snapshot 5", f.Version())
	}

	fc.publish(6, 7, 8)
	r.expect(t, []uint64{5}, []uint64{6, 7, 8})
	if f.Version() != 8 {
		t.Fatalf("version %d, want 8", f.Version())
	}
	if reqs := fc.snapshotRequests(); len(reqs) != 1 || reqs[0].From != "shard-0" || reqs[0].Have != 0 {
		t.Fatalf("snapshot requests %+v", reqs)
	}
}

func TestMetaFollowerUpdatesRacingSnapshot(t *testing.T) {
	s := runServer(t)
	fc := newFakeController(t, s, 5)
	// While the snapshot request is in flight, updates from before the
	// snapshot (3..5) and after it (6, 7) reach the follower first.
	fc.beforeReply = func() { fc.publish(3, 4, 5, 6, 7) }
	r := &recorder{t: t}
	runFollower(t, s, r)

	r.expect(t, []uint64{5}, []uint64{6, 7})
	fc.publish(8)
	r.expect(t, []uint64{5}, []uint64{6, 7, 8})
}

func TestMetaFollowerDropsDuplicatesAndOld(t *testing.T) {
	s := runServer(t)
	fc := newFakeController(t, s, 5)
	r := &recorder{t: t}
	f := runFollower(t, s, r)
	waitSynced(t, f)

	fc.publish(6, 6, 4, 5, 7, 7, 6, 8)
	r.expect(t, []uint64{5}, []uint64{6, 7, 8})
	if n := len(fc.snapshotRequests()); n != 1 {
		t.Fatalf("%d snapshot requests; duplicates must not trigger a re-sync", n)
	}
}

func TestMetaFollowerGapResyncs(t *testing.T) {
	s := runServer(t)
	fc := newFakeController(t, s, 5)
	r := &recorder{t: t}
	f := runFollower(t, s, r)
	waitSynced(t, f)

	fc.publish(6)
	r.expect(t, []uint64{5}, []uint64{6})

	// 7 and 8 are lost; the controller is at 9 and 9 arrives.
	fc.setVersion(9)
	fc.publish(9)
	r.expect(t, []uint64{5, 9}, []uint64{6})
	reqs := fc.snapshotRequests()
	if len(reqs) != 2 || reqs[1].Have != 6 {
		t.Fatalf("snapshot requests %+v, want a second one with have=6", reqs)
	}

	fc.publish(10)
	r.expect(t, []uint64{5, 9}, []uint64{6, 10})
	if f.Version() != 10 {
		t.Fatalf("version %d, want 10", f.Version())
	}
}

func TestMetaFollowerGapUpdateAppliedAfterResync(t *testing.T) {
	s := runServer(t)
	fc := newFakeController(t, s, 5)
	r := &recorder{t: t}
	f := runFollower(t, s, r)
	waitSynced(t, f)

	// 6 is lost and 7 arrives; the snapshot answering the re-sync is still
	// at 6, so 7 must be applied on top of it, not dropped.
	fc.setVersion(6)
	fc.publish(7)
	r.expect(t, []uint64{5, 6}, []uint64{7})
	fc.publish(8)
	r.expect(t, []uint64{5, 6}, []uint64{7, 8})
}

func TestMetaFollowerApplyFailureResyncs(t *testing.T) {
	s := runServer(t)
	fc := newFakeController(t, s, 5)
	r := &recorder{t: t, failUpdate: map[uint64]int{6: 2}}
	f := runFollower(t, s, r)
	waitSynced(t, f)

	// 6 fails twice: each failure fetches a snapshot (still 5) and retries 6.
	fc.publish(6)
	r.expect(t, []uint64{5, 5, 5}, []uint64{6})
	fc.publish(7)
	r.expect(t, []uint64{5, 5, 5}, []uint64{6, 7})
}

func TestMetaFollowerUndecodableUpdateResyncs(t *testing.T) {
	s := runServer(t)
	fc := newFakeController(t, s, 5)
	r := &recorder{t: t}
	f := runFollower(t, s, r)
	waitSynced(t, f)

	fc.setVersion(6)
	if err := PublishRaw(fc.conn, SubjMetaUpdate, []byte("{garbage")); err != nil {
		t.Fatal(err)
	}
	flush(t, fc.conn)
	r.expect(t, []uint64{5, 6}, nil)
}

func TestMetaFollowerWaitsForController(t *testing.T) {
	s := runServer(t)
	r := &recorder{t: t}
	f := runFollower(t, s, r)

	// Nobody answers yet: the follower retries without applying anything.
	select {
	case <-f.Synced():
		t.Fatal("synced without a controller")
	default:
	}
	newFakeController(t, s, 3)
	waitSynced(t, f)
	r.expect(t, []uint64{3}, nil)
}

func TestMetaFollowerStopsWhenBusLost(t *testing.T) {
	s := runServer(t)
	newFakeController(t, s, 1)
	c, err := ConnectWith(ConnOptions{
		URL: s.URL(), Token: s.Token(), Name: "shard-0",
		GiveUpAfter: 100 * time.Millisecond, ReconnectWait: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := &recorder{t: t}
	f, err := NewMetaFollower(c, MetaFollowerConfig{OnSnapshot: r.onSnapshot, OnUpdate: r.onUpdate})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.Run(context.Background()) }()
	waitSynced(t, f)

	s.Shutdown()
	select {
	case err := <-done:
		if !errors.Is(err, ErrBusLost) {
			t.Fatalf("Run returned %v, want ErrBusLost", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run still running after the bus went away")
	}
}

func TestNewMetaFollowerNeedsCallbacks(t *testing.T) {
	if _, err := NewMetaFollower(nil, MetaFollowerConfig{OnSnapshot: func(MetaSnapshot) error { return nil }}); err == nil {
		t.Fatal("accepted a follower without OnUpdate")
	}
}
