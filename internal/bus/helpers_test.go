package bus

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"
)

// testLogger is silent unless AILURUS_TEST_LOG is set.
func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	if os.Getenv("AILURUS_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// runServer starts a bus on a random loopback port, stopped at cleanup.
func runServer(t *testing.T) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := StartServer(ctx, ServerOptions{Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// connect dials s with its token, closed at cleanup.
func connect(t *testing.T, s *Server, name string) *Conn {
	t.Helper()
	c, err := Connect(s.URL(), s.Token(), name, testLogger(t))
	if err != nil {
		t.Fatalf("connect %s: %v", name, err)
	}
	t.Cleanup(c.Close)
	return c
}

// waitClosed fails the test unless ch closes within timeout.
func waitClosed(t *testing.T, ch <-chan struct{}, timeout time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(timeout):
		t.Fatalf("%s: not closed after %s", what, timeout)
	}
}

// flush makes sure everything c published has reached the server.
func flush(t *testing.T, c *Conn) {
	t.Helper()
	if err := c.Flush(t.Context()); err != nil {
		t.Fatalf("flush: %v", err)
	}
}
