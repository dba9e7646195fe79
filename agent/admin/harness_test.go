package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ailurus/ailurus/internal/metadata"
)

// Test harness: a fake controller and supervisor, and a server on
// 127.0.0.1:0. Logs are off unless AILURUS_TEST_LOG is set.

const localNode int32 = 1

// fakeCluster is a Cluster over an in-memory State. SetClusterConfig applies
// the change like the controller does (values stored as given, version + 1)
// unless failWith is set.
type fakeCluster struct {
	mu       sync.Mutex
	state    *metadata.State
	failWith error
	calls    []setCall
	panics   bool // State panics, to test the recover middleware
	alive    map[int32]bool
}

type setCall struct {
	upsert map[string]string
	remove []string
}

func (f *fakeCluster) State() *metadata.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panics {
		panic("fake cluster: State exploded")
	}
	return f.state
}

func (f *fakeCluster) SetClusterConfig(_ context.Context, upsert map[string]string, remove []string) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, setCall{upsert: maps.Clone(upsert), remove: append([]string(nil), remove...)})
	if f.failWith != nil {
		return 0, f.failWith
	}
	cc := maps.Clone(f.state.ClusterConfig)
	if cc == nil {
		cc = metadata.ClusterConfig{}
	}
	maps.Copy(cc, upsert)
	for _, k := range remove {
		delete(cc, k)
	}
	next := f.state.WithClusterConfig(cc)
	next.Version = f.state.Version + 1
	f.state = next
	return next.Version, nil
}

func (f *fakeCluster) setCalls() []setCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]setCall(nil), f.calls...)
}

func (f *fakeCluster) set(fn func(f *fakeCluster)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// livenessCluster is a fakeCluster with the optional Liveness capability.
type livenessCluster struct{ *fakeCluster }

func (l livenessCluster) NodeAlive(id int32) (alive, known bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	alive, known = l.alive[id]
	return alive, known
}

var (
	_ Cluster  = (*fakeCluster)(nil)
	_ Liveness = livenessCluster{}
	_ Health   = (*fakeHealth)(nil)
)

// fakeHealth reports whatever the test stores.
type fakeHealth struct{ serving, total atomic.Int64 }

func (h *fakeHealth) ShardsServing() (int, int) {
	return int(h.serving.Load()), int(h.total.Load())
}

func (h *fakeHealth) setShards(serving, total int) {
	h.serving.Store(int64(serving))
	h.total.Store(int64(total))
}

// testState is a two-node cluster, metadata version 7:
//
//	node 1 (local): 2 shards; node 2: 4 shards
//	orders: p0 on 1/0 (leader 1), p1 on 2/1 (leader 2), p2 on 1/1 (no leader)
//	alpha:  p0 on 1/1 and 2/0 (leader 2)
//	__consumer_offsets: p0 on 1/0 (leader 1)
//	cluster config: log_retention_ms=3600000, enable_idempotence=true (its default)
func testState() *metadata.State {
	st := metadata.NewState()
	st = st.WithBroker(metadata.Broker{NodeID: 1, KafkaAddr: "127.0.0.1:9092", AdminAddr: "127.0.0.1:9644",
		RPCAddr: "127.0.0.1:33145", Rack: "rack-a", Shards: 2})
	st = st.WithBroker(metadata.Broker{NodeID: 2, KafkaAddr: "10.0.0.2:19092", RPCAddr: "10.0.0.2:33145", Shards: 4})
	r := func(node int32, shard int) metadata.Replica { return metadata.Replica{NodeID: node, Shard: shard} }
	st = st.WithTopic(&metadata.Topic{Name: "orders", ID: metadata.UUID{1}, Revision: 3, Partitions: []metadata.Partition{
		{ID: 0, Replicas: []metadata.Replica{r(1, 0)}, Leader: r(1, 0)},
		{ID: 1, Replicas: []metadata.Replica{r(2, 1)}, Leader: r(2, 1)},
		{ID: 2, Replicas: []metadata.Replica{r(1, 1)}, Leader: metadata.NoLeader},
	}})
	st = st.WithTopic(&metadata.Topic{Name: "alpha", ID: metadata.UUID{2}, Revision: 5, Partitions: []metadata.Partition{
		{ID: 0, Replicas: []metadata.Replica{r(1, 1), r(2, 0)}, Leader: r(2, 0)},
	}})
	st = st.WithTopic(&metadata.Topic{Name: "__consumer_offsets", ID: metadata.UUID{3}, Revision: 2, Internal: true,
		Partitions: []metadata.Partition{{ID: 0, Replicas: []metadata.Replica{r(1, 0)}, Leader: r(1, 0)}}})
	st = st.WithClusterConfig(metadata.ClusterConfig{"log_retention_ms": "3600000", "enable_idempotence": "true"})
	st.Version = 7
	return st
}

// testEnv is a running server and its fakes.
type testEnv struct {
	t       *testing.T
	url     string // http://127.0.0.1:port
	srv     *Server
	cluster *fakeCluster
	health  *fakeHealth
}

func testLogger() *slog.Logger {
	if os.Getenv("AILURUS_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return nil
}

// runServer starts a server on 127.0.0.1:0 with the fakes; edit adjusts the
// Config first. It stops at the end of the test, and the test fails if Serve
// returned anything but nil.
func runServer(t *testing.T, edit func(*Config)) *testEnv {
	t.Helper()
	env := &testEnv{t: t, cluster: &fakeCluster{state: testState()}, health: &fakeHealth{}}
	env.health.setShards(2, 2)
	cfg := DefaultConfig()
	cfg.NodeID = localNode
	cfg.Version = "v0.0.0-test"
	cfg.Cluster = env.cluster
	cfg.Health = env.health
	cfg.Logger = testLogger()
	if edit != nil {
		edit(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve returned %v, want nil after Shutdown", err)
		}
	})
	env.srv = srv
	env.url = "http://" + ln.Addr().String()
	return env
}

// response is an HTTP answer read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with an optional body and reads the answer.
func (e *testEnv) do(method, path string, body io.Reader) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *testEnv) get(path string) response { return e.do(http.MethodGet, path, nil) }

func (e *testEnv) put(path, body string) response {
	return e.do(http.MethodPut, path, bytes.NewReader([]byte(body)))
}

// expect fails the test unless the answer has this status and a JSON body,
// which it decodes into v (if not nil).
func (r response) expect(t *testing.T, status int, v any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decode %s: %v", r.body, err)
		}
	}
}

// expectError checks an error answer: status, and {"message": ..., "code":
// status} with a message containing want.
func (r response) expectError(t *testing.T, status int, want string) {
	t.Helper()
	var body struct {
		Message *string `json:"message"`
		Code    int     `json:"code"`
	}
	r.expect(t, status, &body)
	if body.Message == nil || body.Code != status {
		t.Fatalf("error body %s: want message and code %d", r.body, status)
	}
	if !bytes.Contains([]byte(*body.Message), []byte(want)) {
		t.Fatalf("message %q does not contain %q", *body.Message, want)
	}
}

// errUnavailable stands for the controller's ErrNotController.
var errUnavailable = errors.New("not the controller")
