package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// Defaults for MetaFollowerConfig.
const (
	DefaultFollowerBuffer    = 4096
	DefaultFollowerRetryWait = 250 * time.Millisecond
)

// errResync is follow's way of saying "state is unreliable, sync again".
var errResync = errors.New("bus: meta resync needed")

// MetaFollowerConfig configures a MetaFollower. OnSnapshot and OnUpdate are
// required.
type MetaFollowerConfig struct {
	// Name identifies the follower in snapshot requests and logs ("shard-3").
	Name string
	// OnSnapshot replaces the receiver's whole metadata with snap. Called on
	// Run's goroutine, before any update that follows it. An error makes the
	// follower ask for a snapshot again after RetryWait.
	OnSnapshot func(snap MetaSnapshot) error
	// OnUpdate applies u, whose Version is exactly one past the version last
	// applied (snapshot or update). Called on Run's goroutine. An error makes
	// the follower re-sync from a fresh snapshot.
	OnUpdate func(u MetaUpdate) error
	// RequestTimeout bounds one snapshot request; 0 means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	// RetryWait is the pause after a failed sync; 0 means
	// DefaultFollowerRetryWait.
	RetryWait time.Duration
	// Buffer is how many updates may wait while a snapshot is fetched or a
	// callback runs; 0 means DefaultFollowerBuffer. Beyond it nats.go drops
	// updates, which the follower then sees as a gap and re-syncs.
	Buffer int
	// Logger gets sync events (subsys=bus). nil means no logs.
	Logger *slog.Logger
}

// MetaFollower keeps a shard's metadata in step with the agent's controller:
// it subscribes to SubjMetaUpdate first, then asks SubjMetaSnapshot for the
// full state, so no update can fall between the two. Updates that arrive
// while the snapshot is on its way wait in a buffer; those at or below the
// snapshot's version are dropped, the rest applied in version order. A
// version that jumps means one was lost: the follower fetches a new snapshot
// and carries on from there.
//
// The shard creates one per process and calls Run on a goroutine it owns;
// Run owns all follower state and makes every callback. Version and Synced
// may be called from any goroutine.
type MetaFollower struct {
	conn *Conn
	cfg  MetaFollowerConfig
	log  *slog.Logger

	version    atomic.Uint64 // last applied version, published by Run
	synced     chan struct{} // closed after the first snapshot is applied
	syncedOnce sync.Once
}

// NewMetaFollower checks cfg and returns a follower on c; nothing happens
// until Run.
func NewMetaFollower(c *Conn, cfg MetaFollowerConfig) (*MetaFollower, error) {
	if cfg.OnSnapshot == nil || cfg.OnUpdate == nil {
		return nil, errors.New("bus: meta follower needs OnSnapshot and OnUpdate")
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.RetryWait <= 0 {
		cfg.RetryWait = DefaultFollowerRetryWait
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = DefaultFollowerBuffer
	}
	log := slog.New(slog.DiscardHandler)
	if cfg.Logger != nil {
		log = cfg.Logger.With("subsys", "bus", "follower", cfg.Name)
	}
	return &MetaFollower{conn: c, cfg: cfg, log: log, synced: make(chan struct{})}, nil
}

// Version is the metadata version last applied, 0 before the first sync.
func (f *MetaFollower) Version() uint64 { return f.version.Load() }

// Synced is closed once the first snapshot has been applied.
func (f *MetaFollower) Synced() <-chan struct{} { return f.synced }

// Run follows until ctx is done (it returns ctx's error) or the connection
// closes (it returns an error wrapping ErrBusLost or nats.ErrConnectionClosed).
// Call it once.
func (f *MetaFollower) Run(ctx context.Context) error {
	updates := make(chan *nats.Msg, f.cfg.Buffer)
	sub, err := f.conn.nc.ChanSubscribe(SubjMetaUpdate, updates)
	if err != nil {
		return fmt.Errorf("bus: subscribe %s: %w", SubjMetaUpdate, err)
	}
	defer func() { _ = sub.Unsubscribe() }()

	// carry is the update that forced the last re-sync (a gap, or a failed
	// apply); it is tried again on top of the new snapshot.
	var carry *MetaUpdate
	for {
		if err := f.syncLoop(ctx); err != nil {
			return err
		}
		next, err := f.follow(ctx, updates, carry)
		if !errors.Is(err, errResync) {
			return err
		}
		if carry != nil && next == carry {
			// The fresh snapshot did not help with the same update: the
			// controller lags its own stream, or OnUpdate keeps failing.
			// Do not spin.
			if err := f.pause(ctx); err != nil {
				return err
			}
		}
		carry = next
	}
}

// syncLoop fetches and applies a snapshot, retrying until it works or Run
// must stop.
func (f *MetaFollower) syncLoop(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		err := f.syncOnce(ctx)
		if err == nil {
			return nil
		}
		if stop := f.stopErr(ctx); stop != nil {
			return stop
		}
		level := slog.LevelDebug
		if attempt == 1 {
			level = slog.LevelWarn
		}
		f.log.Log(ctx, level, "meta sync failed, retrying", "attempt", attempt, "err", err)
		if err := f.pause(ctx); err != nil {
			return err
		}
	}
}

// pause waits RetryWait, or returns why Run must stop.
func (f *MetaFollower) pause(ctx context.Context) error {
	t := time.NewTimer(f.cfg.RetryWait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-f.conn.Closed():
	case <-t.C:
	}
	return f.stopErr(ctx)
}

// syncOnce makes sure the server has our update subscription (so an update
// published after the snapshot is taken is sure to reach us), then fetches
// and applies a snapshot.
func (f *MetaFollower) syncOnce(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, f.cfg.RequestTimeout)
	defer cancel()
	if err := f.conn.Flush(rctx); err != nil {
		return err
	}
	have := f.version.Load()
	snap, err := Request[MetaSnapshotRequest, MetaSnapshot](rctx, f.conn, SubjMetaSnapshot,
		MetaSnapshotRequest{From: f.cfg.Name, Have: have})
	if err != nil {
		return err
	}
	if err := f.cfg.OnSnapshot(snap); err != nil {
		return fmt.Errorf("bus: apply meta snapshot %d: %w", snap.Version, err)
	}
	f.version.Store(snap.Version)
	f.syncedOnce.Do(func() { close(f.synced) })
	f.log.Info("meta synced", "version", snap.Version, "had", have)
	return nil
}

// follow applies carry, if set, then buffered and new updates in order. It
// returns errResync, with the update to retry if there is one, when the
// stream can no longer be trusted; any other error means Run must stop.
func (f *MetaFollower) follow(ctx context.Context, updates <-chan *nats.Msg, carry *MetaUpdate) (*MetaUpdate, error) {
	if carry != nil {
		if err := f.apply(*carry); err != nil {
			return carry, err
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil, f.stopErr(ctx)
		case <-f.conn.Closed():
			return nil, f.stopErr(ctx)
		case m, ok := <-updates:
			if !ok {
				// nats.go does not close channel subscriptions today; if it
				// ever does, the subscription is gone with the connection.
				return nil, fmt.Errorf("bus: meta follower: %w", nats.ErrConnectionClosed)
			}
			var u MetaUpdate
			if err := json.Unmarshal(m.Data, &u); err != nil {
				// Whatever it was, a version is missing now.
				f.log.Warn("meta update undecodable, resyncing", "err", err)
				return nil, errResync
			}
			if err := f.apply(u); err != nil {
				return &u, err
			}
		}
	}
}

// apply drops u if already applied, applies it if it is the next version,
// and returns errResync on a gap or a failed apply.
func (f *MetaFollower) apply(u MetaUpdate) error {
	have := f.version.Load()
	switch {
	case u.Version <= have:
		f.log.Debug("meta update already applied, dropped", "version", u.Version, "have", have)
		return nil
	case u.Version > have+1:
		f.log.Warn("meta update gap, resyncing", "version", u.Version, "have", have)
		return errResync
	}
	if err := f.cfg.OnUpdate(u); err != nil {
		f.log.Warn("meta update failed, resyncing", "version", u.Version, "kind", u.Kind, "err", err)
		return errResync
	}
	f.version.Store(u.Version)
	return nil
}

// stopErr is why Run must stop, or nil if it need not.
func (f *MetaFollower) stopErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-f.conn.Closed():
		if err := f.conn.Err(); err != nil {
			return err
		}
		return fmt.Errorf("bus: meta follower: %w", nats.ErrConnectionClosed)
	default:
		return nil
	}
}
