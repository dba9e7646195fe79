package admin

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestServerNewReportsEveryMissingDependency(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NodeID = -1
	_, err := New(cfg)
	if err == nil {
		t.Fatal("New without Cluster and Health succeeded")
	}
	for _, want := range []string{"Cluster is required", "Health is required", "node id -1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestServerUnknownRouteIs404JSON(t *testing.T) {
	env := runServer(t, nil)
	for _, path := range []string{"/", "/v1/nope", "/v1/brokers/1/decommission", "/v2/status/ready"} {
		env.get(path).expectError(t, http.StatusNotFound, "not found")
	}
}

func TestServerWrongMethodIs405WithAllow(t *testing.T) {
	env := runServer(t, nil)
	cases := []struct {
		method, path, allow string
	}{
		{http.MethodDelete, "/v1/brokers", "GET, HEAD"},
		{http.MethodPost, "/v1/cluster_config", "GET, HEAD, PUT"},
		{http.MethodPut, "/v1/status/ready", "GET, HEAD"},
		{http.MethodPost, "/metrics", "GET, HEAD"},
		{http.MethodPut, "/v1/partitions", "GET, HEAD"},
	}
	for _, c := range cases {
		r := env.do(c.method, c.path, nil)
		r.expectError(t, http.StatusMethodNotAllowed, "not allowed")
		if got := r.header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
}

func TestServerPanicIs500AndServerLives(t *testing.T) {
	env := runServer(t, nil)
	env.cluster.set(func(f *fakeCluster) { f.panics = true })
	env.get("/v1/brokers").expectError(t, http.StatusInternalServerError, "internal error")
	env.get("/v1/partitions").expectError(t, http.StatusInternalServerError, "internal error")
	// Routes not touching the cluster, and the cluster once fixed, still work.
	env.get("/v1/status/ready").expect(t, http.StatusOK, nil)
	env.cluster.set(func(f *fakeCluster) { f.panics = false })
	env.get("/v1/brokers").expect(t, http.StatusOK, nil)
}

func TestServerShutdownStopsServing(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Cluster = &fakeCluster{state: testState()}
	cfg.Health = &fakeHealth{}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String() + "/v1/status/ready"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("before shutdown: %v", err)
	}
	resp.Body.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve returned %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after Shutdown")
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := client.Get(url); err == nil {
		resp.Body.Close()
		t.Fatal("request after Shutdown succeeded")
	}
}

func TestServerListenAndServeReportsListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := DefaultConfig()
	cfg.Addr = ln.Addr().String() // taken
	cfg.Cluster = &fakeCluster{state: testState()}
	cfg.Health = &fakeHealth{}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = srv.ListenAndServe()
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Fatalf("ListenAndServe on a taken port: %v, want a *net.OpError", err)
	}
}

// TestShutdownDoesNotWaitForIdleNewConnections: a client that connected and
// never sent a request does not hold Shutdown up (net/http alone waits 5 s
// for such connections, Go issue 22682).
func TestShutdownDoesNotWaitForIdleNewConnections(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Cluster, cfg.Health = &fakeCluster{state: testState()}, &fakeHealth{}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Let the server accept it (StateNew) before shutting down.
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with a silent client connected: %v", err)
	}
}
