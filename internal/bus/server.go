package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Defaults for ServerOptions.
const (
	DefaultHost         = "127.0.0.1"
	DefaultReadyTimeout = 5 * time.Second
	// DefaultMaxPayload bounds one message. A shard's metrics push grows with
	// its partitions; 8 MiB is NATS' own recommended ceiling.
	DefaultMaxPayload = 8 << 20
)

// ServerOptions configures the embedded server. The zero value is what the
// agent wants; tests set Logger.
type ServerOptions struct {
	// Host to listen on; must be a loopback IP. "" means DefaultHost. Cluster
	// tests give each node its own 127.0.0.x.
	Host string
	// MaxPayload is the largest message in bytes; 0 means DefaultMaxPayload.
	MaxPayload int32
	// ReadyTimeout bounds the wait for the listener; 0 means
	// DefaultReadyTimeout. The context passed to StartServer bounds it too.
	ReadyTimeout time.Duration
	// Logger receives the server's own log lines (subsys=bus). nil means the
	// server logs nothing.
	Logger *slog.Logger
}

// Server is the embedded NATS server. The agent owns it: one per agent run,
// started by StartServer and stopped by Shutdown. The port and the token are
// chosen at start and never change; a new agent run gets new ones.
type Server struct {
	ns    *server.Server
	token string
	url   string
	addr  *net.TCPAddr
	log   *slog.Logger

	shutdownOnce sync.Once
}

// StartServer starts the server on opts.Host with a random port and a random
// token, and returns once it accepts connections. Only the client listener is
// opened: no monitoring HTTP port, no cluster, leafnode or gateway listener,
// no signal handlers, no JetStream.
func StartServer(ctx context.Context, opts ServerOptions) (*Server, error) {
	host := opts.Host
	if host == "" {
		host = DefaultHost
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%w: %q", ErrNotLoopback, host)
	}
	maxPayload := opts.MaxPayload
	if maxPayload <= 0 {
		maxPayload = DefaultMaxPayload
	}
	readyTimeout := opts.ReadyTimeout
	if readyTimeout <= 0 {
		readyTimeout = DefaultReadyTimeout
	}
	token, err := newToken()
	if err != nil {
		return nil, err
	}

	ns, err := server.NewServer(&server.Options{
		ServerName:      "ailurus-bus",
		Host:            host,
		Port:            server.RANDOM_PORT,
		Authorization:   token,
		MaxPayload:      maxPayload,
		NoSigs:          true,
		NoLog:           true,
		NoSystemAccount: true,
		// HTTPPort, ProfPort, Cluster, LeafNode, Gateway, Websocket and MQTT
		// stay zero: those listeners are never opened.
	})
	if err != nil {
		return nil, fmt.Errorf("bus: new server: %w", err)
	}
	var log *slog.Logger
	if opts.Logger != nil {
		log = opts.Logger.With("subsys", "bus")
		debug := log.Enabled(context.Background(), slog.LevelDebug)
		// Trace stays off: it logs every protocol line.
		ns.SetLogger(&serverLogger{log: log}, debug, false)
	} else {
		log = slog.New(slog.DiscardHandler)
	}

	// Start returns once the accept loop runs in its own goroutine.
	ns.Start()
	if err := waitReady(ctx, ns, readyTimeout); err != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, err
	}
	addr, ok := ns.Addr().(*net.TCPAddr)
	if !ok {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("%w: no tcp listener", ErrNotReady)
	}
	s := &Server{
		ns:    ns,
		token: token,
		url:   "nats://" + addr.String(),
		addr:  addr,
		log:   log,
	}
	log.Info("bus started", "addr", addr.String())
	return s, nil
}

// waitReady polls the server until it is ready, the timeout passes or ctx is
// done, whichever comes first.
func waitReady(ctx context.Context, ns *server.Server, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if ns.ReadyForConnections(100 * time.Millisecond) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%w: %w", ErrNotReady, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: after %s", ErrNotReady, timeout)
		}
	}
}

// newToken returns 32 random bytes, hex encoded.
func newToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("bus: token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// URL is what clients dial, "nats://127.0.0.1:<port>".
func (s *Server) URL() string { return s.url }

// Token is the shared secret clients present. Hand it only to children.
func (s *Server) Token() string { return s.token }

// Addr is the client listener's address.
func (s *Server) Addr() *net.TCPAddr { return s.addr }

// Env is EnvFor(s.URL(), s.Token()), for a child's exec.Cmd.Env.
func (s *Server) Env() []string { return EnvFor(s.url, s.token) }

// NumClients is the number of connected clients, for status and tests.
func (s *Server) NumClients() int { return s.ns.NumClients() }

// Shutdown closes every client connection and the listener, and returns once
// the server has stopped. Connected clients see a disconnect and, after their
// GiveUpAfter, close. Safe to call more than once and from any goroutine.
func (s *Server) Shutdown() {
	s.shutdownOnce.Do(func() {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
		s.log.Info("bus stopped")
	})
}
