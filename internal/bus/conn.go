package bus

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Defaults for ConnOptions.
const (
	// DefaultGiveUpAfter is how long a child keeps trying to reach a bus that
	// went away before it closes the connection. On loopback the bus only
	// goes away with the agent, and a restarted agent has a new port and
	// token, so there is nothing to wait for beyond a hiccup.
	DefaultGiveUpAfter   = 15 * time.Second
	DefaultReconnectWait = 250 * time.Millisecond
	// DefaultRequestTimeout bounds Request when its context has no deadline.
	DefaultRequestTimeout = 5 * time.Second

	connectTimeout = 2 * time.Second
	drainTimeout   = 5 * time.Second
)

// ConnOptions configures a client. Connect fills it with defaults; tests and
// callers that need the hooks use ConnectWith.
type ConnOptions struct {
	URL   string
	Token string
	// Name identifies the process in the server's view ("shard-3").
	Name string
	// Logger gets connection events (subsys=bus). nil means no logs.
	Logger *slog.Logger
	// GiveUpAfter is how long the connection may stay down before it is
	// closed for good and Closed fires; 0 means DefaultGiveUpAfter.
	GiveUpAfter time.Duration
	// ReconnectWait is the pause between reconnect attempts; 0 means
	// DefaultReconnectWait.
	ReconnectWait time.Duration
	// OnDisconnect and OnReconnect, if set, are called from nats.go's single
	// callback goroutine, in event order. They must not block. OnDisconnect
	// is also called, with a nil error, when Close ends a live connection.
	OnDisconnect func(err error)
	OnReconnect  func()
}

// Conn is one process's connection to the bus. The process that made it owns
// it and closes it on exit; it is safe for concurrent use.
//
// Life: Connect -> (disconnect -> reconnect)* -> closed. It closes when
// Close is called or when the bus stayed unreachable for GiveUpAfter; either
// way Closed() fires and a child should then exit.
type Conn struct {
	nc          *nats.Conn
	log         *slog.Logger
	giveUpAfter time.Duration
	closed      chan struct{}

	// mu guards giveUp and err; taken from nats.go's callback goroutine and
	// from the give-up timer's goroutine.
	mu     sync.Mutex
	giveUp *time.Timer // running while disconnected, nil otherwise
	err    error       // why the connection closed, nil if by Close
}

// Connect dials the bus at url with token, with default reconnect settings.
// It fails at once if the bus is not there: a child started without a bus has
// nothing to do.
func Connect(url, token string, name string, log *slog.Logger) (*Conn, error) {
	return ConnectWith(ConnOptions{URL: url, Token: token, Name: name, Logger: log})
}

// ConnectWith is Connect with every option spelled out.
func ConnectWith(opts ConnOptions) (*Conn, error) {
	c := &Conn{
		giveUpAfter: opts.GiveUpAfter,
		closed:      make(chan struct{}),
	}
	if c.giveUpAfter <= 0 {
		c.giveUpAfter = DefaultGiveUpAfter
	}
	reconnectWait := opts.ReconnectWait
	if reconnectWait <= 0 {
		reconnectWait = DefaultReconnectWait
	}
	if opts.Logger != nil {
		c.log = opts.Logger.With("subsys", "bus", "conn", opts.Name)
	} else {
		c.log = slog.New(slog.DiscardHandler)
	}

	nc, err := nats.Connect(opts.URL,
		nats.Name(opts.Name),
		nats.Token(opts.Token),
		nats.Timeout(connectTimeout),
		nats.DrainTimeout(drainTimeout),
		// Reconnect forever; the give-up timer bounds the outage in time
		// rather than in attempts.
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.ReconnectJitter(reconnectWait/4, reconnectWait/4),
		nats.PingInterval(10*time.Second),
		nats.MaxPingsOutstanding(3),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			c.disconnected(nc, err)
			if opts.OnDisconnect != nil {
				opts.OnDisconnect(err)
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			c.reconnected()
			if opts.OnReconnect != nil {
				opts.OnReconnect()
			}
		}),
		nats.ClosedHandler(func(*nats.Conn) { c.closedNow() }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			c.log.Warn("bus async error", "subject", subject, "err", err)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("bus: connect %s: %w", opts.URL, err)
	}
	c.nc = nc
	c.log.Debug("bus connected", "url", opts.URL)
	return c, nil
}

// disconnected runs on nats.go's callback goroutine when the link drops.
func (c *Conn) disconnected(nc *nats.Conn, err error) {
	if nc.IsClosed() {
		return // Close, not an outage
	}
	c.log.Warn("bus disconnected", "err", err, "give_up_after", c.giveUpAfter)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.giveUp != nil {
		return
	}
	c.giveUp = time.AfterFunc(c.giveUpAfter, func() {
		c.mu.Lock()
		if c.err == nil {
			c.err = fmt.Errorf("%w: unreachable for %s", ErrBusLost, c.giveUpAfter)
		}
		c.mu.Unlock()
		c.log.Error("bus lost, closing connection", "after", c.giveUpAfter)
		nc.Close()
	})
}

// reconnected runs on nats.go's callback goroutine.
func (c *Conn) reconnected() {
	c.log.Info("bus reconnected")
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.giveUp != nil {
		c.giveUp.Stop()
		c.giveUp = nil
	}
}

// closedNow runs on nats.go's callback goroutine, once.
func (c *Conn) closedNow() {
	c.mu.Lock()
	if c.giveUp != nil {
		c.giveUp.Stop()
		c.giveUp = nil
	}
	c.mu.Unlock()
	c.log.Debug("bus connection closed")
	close(c.closed)
}

// Closed is closed once the connection is gone for good: Close was called or
// the bus stayed unreachable for GiveUpAfter. A child selects on it in its
// main loop and exits when it fires.
func (c *Conn) Closed() <-chan struct{} { return c.closed }

// Err says why the connection closed: an error wrapping ErrBusLost if the bus
// went away, nil if Close was called or the connection is still open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Connected reports whether the link is up right now.
func (c *Conn) Connected() bool { return c.nc.IsConnected() }

// Flush returns once the server has processed everything published so far.
func (c *Conn) Flush(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultRequestTimeout)
		defer cancel()
	}
	if err := c.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("bus: flush: %w", err)
	}
	return nil
}

// NATS is the underlying connection, for what this package does not wrap.
func (c *Conn) NATS() *nats.Conn { return c.nc }

// Close drains subscriptions (letting callbacks in flight finish), flushes
// pending publishes and closes, waiting at most drainTimeout. It must not be
// called from a bus callback: draining waits for that callback to return.
// Safe to call more than once.
func (c *Conn) Close() {
	if err := c.nc.Drain(); err != nil {
		// Already closed, or reconnecting: nothing to drain into.
		c.nc.Close()
	}
	<-c.closed
}
