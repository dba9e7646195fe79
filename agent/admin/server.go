package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config is everything New needs. Zero durations and sizes take the
// DefaultConfig value.
type Config struct {
	// Addr is where ListenAndServe listens, host:port. Serve ignores it.
	Addr string
	// NodeID is this node's broker id: /v1/partitions lists the replicas
	// placed on it, /v1/brokers reports it alive.
	NodeID int32
	// Version is this node's build version, shown for it in /v1/brokers.
	Version string

	// Cluster and Health are required; see deps.go.
	Cluster Cluster
	Health  Health
	// Gatherer is the agent's own Prometheus registry; nil serves none.
	Gatherer prometheus.Gatherer
	// Collector holds the children's metric pushes; nil serves none.
	Collector *Collector
	// Logger receives the server's events (subsys=admin). nil discards.
	Logger *slog.Logger

	// IsUnavailable reports whether an error from Cluster.SetClusterConfig
	// means "cannot take writes now, try again" (this node is not the
	// controller leader, the controller is closing); those are answered 503.
	// nil: every such error is a 500, except a context deadline (504).
	IsUnavailable func(error) bool

	// MaxBodyBytes caps a request body; larger ones get 413.
	MaxBodyBytes int64
	// WriteTimeout bounds a cluster config change (the controller write).
	WriteTimeout time.Duration
	// ReadHeaderTimeout and IdleTimeout protect the listener from slow or
	// idle clients; HTTPWriteTimeout bounds writing one answer (a scrape of
	// many shards' metrics is the largest).
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	HTTPWriteTimeout  time.Duration
}

// DefaultConfig returns the defaults; the caller fills NodeID, Version and
// the dependencies.
func DefaultConfig() Config {
	return Config{
		Addr:              "0.0.0.0:9644",
		MaxBodyBytes:      1 << 20,
		WriteTimeout:      10 * time.Second,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		HTTPWriteTimeout:  time.Minute,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Addr == "" {
		c.Addr = d.Addr
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = d.WriteTimeout
	}
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = d.ReadHeaderTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.HTTPWriteTimeout == 0 {
		c.HTTPWriteTimeout = d.HTTPWriteTimeout
	}
	return c
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Cluster == nil {
		errs = append(errs, errors.New("admin: Cluster is required"))
	}
	if c.Health == nil {
		errs = append(errs, errors.New("admin: Health is required"))
	}
	if c.NodeID < 0 {
		errs = append(errs, fmt.Errorf("admin: node id %d is negative", c.NodeID))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("admin: max body bytes %d is negative", c.MaxBodyBytes))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"write timeout", c.WriteTimeout},
		{"read header timeout", c.ReadHeaderTimeout},
		{"idle timeout", c.IdleTimeout},
		{"http write timeout", c.HTTPWriteTimeout},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("admin: %s %v is negative", d.name, d.v))
		}
	}
	return errors.Join(errs...)
}

// Server is the admin API. The agent owns it: New, then Serve (or
// ListenAndServe) on a goroutine, then Shutdown. Safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	handler http.Handler
	http    *http.Server

	freshMu sync.Mutex
	fresh   map[net.Conn]struct{} // accepted, no request read yet
}

// New builds a Server; it does not listen yet.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, log: log.With("subsys", "admin")}
	s.handler = s.guard(s.routes())
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		WriteTimeout:      cfg.HTTPWriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		ConnState:         s.trackFresh,
	}
	s.fresh = map[net.Conn]struct{}{}
	return s, nil
}

// routes is the route table. Paths are Redpanda's; every route answers 405
// to a method it does not serve, and any other path 404, both in JSON.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/v1/status/ready", s.route(methods{http.MethodGet: s.getReady}))
	mux.Handle("/v1/brokers", s.route(methods{http.MethodGet: s.getBrokers}))
	mux.Handle("/v1/brokers/{id}", s.route(methods{http.MethodGet: s.getBroker}))
	mux.Handle("/v1/cluster_config", s.route(methods{
		http.MethodGet: s.getClusterConfig,
		http.MethodPut: s.putClusterConfig,
	}))
	mux.Handle("/v1/cluster_config/status", s.route(methods{http.MethodGet: s.getClusterConfigStatus}))
	mux.Handle("/v1/cluster_config/schema", s.route(methods{http.MethodGet: s.getClusterConfigSchema}))
	mux.Handle("/v1/partitions", s.route(methods{http.MethodGet: s.getPartitions}))
	mux.Handle("/metrics", s.route(methods{http.MethodGet: s.metricsHandler().ServeHTTP}))
	mux.HandleFunc("/", s.notFound)
	return mux
}

// Handler returns the server's HTTP handler, for tests and for mounting
// elsewhere; Serve uses the same one.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers requests on ln until Shutdown, then returns nil; any other
// return is a failure of the listener. It closes ln on return.
func (s *Server) Serve(ln net.Listener) error {
	s.log.Info("admin api listening", "addr", ln.Addr().String())
	if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("admin: serve %s: %w", ln.Addr(), err)
	}
	return nil
}

// ListenAndServe listens on cfg.Addr and calls Serve.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("admin: listen: %w", err)
	}
	return s.Serve(ln)
}

// Shutdown stops accepting connections and waits, until ctx ends, for the
// requests in flight to finish; then Serve returns. Requests still running
// when ctx ends are cut off and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	// net/http waits up to 5 s for connections that were accepted but never
	// sent a request (Go issue 22682); they have nothing to drain.
	s.freshMu.Lock()
	for c := range s.fresh {
		c.Close()
	}
	s.freshMu.Unlock()
	if err := s.http.Shutdown(ctx); err != nil {
		_ = s.http.Close()
		return fmt.Errorf("admin: shutdown: %w", err)
	}
	return nil
}

// trackFresh records connections that have not sent a request yet.
func (s *Server) trackFresh(c net.Conn, st http.ConnState) {
	s.freshMu.Lock()
	defer s.freshMu.Unlock()
	if st == http.StateNew {
		s.fresh[c] = struct{}{}
	} else {
		delete(s.fresh, c)
	}
}
