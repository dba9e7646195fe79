// Package shard is one shard process: it serves the Kafka API for the
// partitions the controller placed on it, on a listener shared by every shard
// of the node (SO_REUSEPORT), and forwards the parts of requests that name
// other shards' partitions to their owners over Unix sockets. See README.md.
package shard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/ctrlapi"
	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/internal/metadata"
	"github.com/ailurus/ailurus/internal/storage"
)

// Catalog is the shard's view of the control plane. In production it is fed
// from the bus (snapshot, then updates in version order) and forwards control
// requests to the controller; tests may back it with anything.
type Catalog interface {
	// State is the current metadata; never nil; immutable. Any goroutine.
	State() *metadata.State
	// Updated returns a channel closed at the next State change.
	Updated() <-chan struct{}
	// Control sends a request to the controller and waits for its reply;
	// a non-nil error means the controller could not be reached.
	Control(ctx context.Context, req ctrlapi.Request) (ctrlapi.Reply, error)
}

// Config is what a shard needs. Listeners are opened by the caller so tests
// use port 0 and the process wiring stays in one place.
type Config struct {
	ID      int    // shard id, 0-based
	NodeID  int32  // this node
	DataDir string // partitions live under <DataDir>/kafka/<topic>/<partition>_<revision>
	// Kafka is the shared Kafka listener; nil in tests that only forward.
	Kafka net.Listener
	// Forward is this shard's Unix socket listener for requests forwarded by
	// other shards; ForwardPath(i) gives the peers' socket paths.
	Forward     net.Listener
	ForwardPath func(shard int) string
	Catalog     Catalog
	Logger      *slog.Logger
	// Flusher is shared by every partition log of this process.
	Flusher *storage.Flusher
	// MaxRequestBytes closes connections sending larger requests
	// (kafka_request_max_bytes). 0 means 100 MiB.
	MaxRequestBytes int32
}

// Shard serves Kafka requests. Create with New, run with Serve, stop by
// cancelling Serve's context; Serve returns once every connection and
// partition is closed.
type Shard struct {
	cfg   Config
	log   *slog.Logger
	parts *partitions
	fwd   *forwarder
	pids  *pidAllocator
	// groups: coordinators of this shard's __consumer_offsets partitions (group_coord.go).
	groups *groupCoordinator
	// txns: coordinators of this shard's __transaction_state partitions (txn_coord.go).
	txns *txnCoordinator

	wg    sync.WaitGroup
	conns sync.Map // net.Conn -> struct{}: open connections, closed on stop
}

// New builds a shard. It opens nothing until Serve.
func New(cfg Config) (*Shard, error) {
	if cfg.Catalog == nil {
		return nil, errors.New("shard: no catalog")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Flusher == nil {
		cfg.Flusher = storage.NewFlusher(16)
	}
	s := &Shard{cfg: cfg, log: cfg.Logger.With("subsys", "shard", "shard", cfg.ID)}
	s.parts = newPartitions(s, filepath.Join(cfg.DataDir, "kafka"))
	s.fwd = newForwarder(s)
	s.groups = newGroupCoordinator(s)
	s.txns = newTxnCoordinator(s)
	s.pids = newPIDAllocator(cfg.DataDir, cfg.NodeID, cfg.ID)
	return s, nil
}

// Serve opens the partitions placed on this shard, then serves until ctx is
// cancelled. ready is called once every placed partition has recovered and
// the listeners accept.
func (s *Shard) Serve(ctx context.Context, ready func()) error {
	if err := s.parts.openStable(s.cfg.DataDir, s.cfg.ID); err != nil {
		return err
	}
	if err := s.parts.reconcile(); err != nil {
		return fmt.Errorf("open partitions: %w", err)
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.parts.follow(ctx) }()
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.parts.followLogOptions(ctx) }()
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.housekeep(ctx) }()
	for _, ln := range []struct {
		l        net.Listener
		internal bool
	}{{s.cfg.Kafka, false}, {s.cfg.Forward, true}} {
		if ln.l == nil {
			continue
		}
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.accept(ctx, ln.l, ln.internal) }()
	}
	if ready != nil {
		ready()
	}
	<-ctx.Done()
	for _, ln := range []net.Listener{s.cfg.Kafka, s.cfg.Forward} {
		if ln != nil {
			ln.Close()
		}
	}
	s.conns.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
	s.wg.Wait()
	s.fwd.close()
	return s.parts.closeAll()
}

func (s *Shard) accept(ctx context.Context, ln net.Listener, internal bool) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				s.log.Error("accept failed", "err", err)
			}
			return
		}
		s.conns.Store(c, struct{}{})
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.conns.Delete(c)
			s.serveConn(ctx, c, internal)
		}()
	}
}

func (s *Shard) maxRequestBytes() int32 {
	if s.cfg.MaxRequestBytes > 0 {
		return s.cfg.MaxRequestBytes
	}
	return 100 << 20
}

var errPanic = errors.New("handler panicked")

func errUnknownKey(k int16) error { return fmt.Errorf("unknown api key %d", k) }

func errUnsupportedVersion(h kwire.Header) error {
	return fmt.Errorf("unsupported version %d of %s", h.Version, kmsg.NameForKey(h.Key))
}

type internalKey struct{}

// withInternal marks requests that came over the forward socket: they name
// only this shard's partitions and are never forwarded again.
func withInternal(ctx context.Context, internal bool) context.Context {
	if !internal {
		return ctx
	}
	return context.WithValue(ctx, internalKey{}, true)
}

func isInternal(ctx context.Context) bool { return ctx.Value(internalKey{}) != nil }
