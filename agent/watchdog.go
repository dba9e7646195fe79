package agent

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/ailurus/ailurus/internal/bus"
)

// The systemd watchdog (WatchdogSec= in ailurus.service) is fed from shard
// liveness, not from a timer: the agent sends WATCHDOG=1 only while every
// shard has published bus.ShardHealth (once a second) within healthMaxAge.
// A shard that dies is restarted by its child supervisor well within that
// budget; a node whose shards stay silent for WatchdogSec is restarted by
// systemd (Restart=on-abnormal). Until startup is over (every shard has
// been healthy once, or every shard has reported ready) the agent pings on
// its own: TimeoutStartSec bounds startup and recovery, not the watchdog.

// healthMaxAge is how old a shard's last heartbeat may be for the shard to
// count as alive: a few heartbeat periods.
const healthMaxAge = 5 * time.Second

// liveness records when each shard was last heard from. Written by the bus
// subscription goroutine, read by the watchdog loop; mu guards last.
type liveness struct {
	mu   sync.Mutex
	last map[int]time.Time // shard id -> agent's clock when its health arrived
}

func (l *liveness) observe(shard int, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last = map[int]time.Time{}
	}
	l.last[shard] = at
}

// stale returns the shards of 0..shards-1 not heard from within maxAge of
// now, in order; empty means every shard is alive.
func (l *liveness) stale(shards int, now time.Time, maxAge time.Duration) []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return staleShards(l.last, shards, now, maxAge)
}

// staleShards is the watchdog's decision, kept pure for tests.
func staleShards(last map[int]time.Time, shards int, now time.Time, maxAge time.Duration) []int {
	var out []int
	for i := 0; i < shards; i++ {
		t, ok := last[i]
		if !ok || now.Sub(t) > maxAge {
			out = append(out, i)
		}
	}
	return out
}

// watchdogState is the loop's memory between ticks: whether startup is over
// and what it last told the log.
type watchdogState struct {
	started bool  // startup is over: every shard was alive, or ready, once
	stale   []int // shards missing at the last tick (for logging changes only)
}

// tick decides whether to send WATCHDOG=1 now, given the stale shards and
// whether every shard currently reports ready. A shard that hangs right
// after it got ready ends the startup pass through allReady, so the
// watchdog still fires. changed reports that the set of stale shards
// differs from the last tick.
func (s *watchdogState) tick(stale []int, allReady bool) (ping, changed bool) {
	changed = !slices.Equal(stale, s.stale)
	s.stale = stale
	if len(stale) == 0 || allReady {
		s.started = true
	}
	return len(stale) == 0 || !s.started, changed
}

// runWatchdog feeds systemd's watchdog while the shards live. It returns at
// once when the watchdog is not enabled for this process (not under systemd,
// or no WatchdogSec), and when ctx ends.
func (a *Agent) runWatchdog(ctx context.Context) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		a.log.Warn("systemd watchdog misconfigured; not feeding it", "err", err)
		return
	}
	if interval <= 0 {
		return
	}
	var live liveness
	sub, err := bus.Subscribe(a.conn, bus.SubjShardHealthAll, func(h bus.ShardHealth) {
		live.observe(h.ShardID, time.Now())
	})
	if err != nil {
		a.log.Error("systemd watchdog: cannot watch shard health; not feeding it", "err", err)
		return
	}
	defer func() { _ = sub.Unsubscribe() }()

	// systemd asks for a ping every interval/2; ticking faster makes a
	// recovered node visible sooner.
	period := min(interval/4, time.Second)
	maxAge := min(healthMaxAge, interval/2)
	a.log.Info("systemd watchdog fed by shard health", "interval", interval, "max_health_age", maxAge)
	t := time.NewTicker(period)
	defer t.Stop()
	n := a.cfg.Shards()
	var st watchdogState
	for {
		stale := live.stale(n, time.Now(), maxAge)
		serving, total := a.Ready()
		ping, changed := st.tick(stale, total > 0 && serving == total)
		if ping {
			a.opts.Status("WATCHDOG", "")
		}
		if changed && st.started {
			if len(stale) > 0 {
				a.log.Warn("shards silent; not feeding the systemd watchdog", "shards", stale, "max_age", maxAge)
			} else {
				a.log.Info("every shard alive; feeding the systemd watchdog")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
