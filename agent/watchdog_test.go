package agent

import (
	"slices"
	"testing"
	"time"
)

func TestStaleShards(t *testing.T) {
	now := time.Unix(1000, 0)
	last := map[int]time.Time{
		0: now.Add(-1 * time.Second),
		1: now.Add(-6 * time.Second), // too old
		3: now,                       // 2 never reported
		7: now,                       // not a shard of this node: ignored
	}
	if got := staleShards(last, 4, now, 5*time.Second); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("stale %v, want [1 2]", got)
	}
	last[1], last[2] = now, now.Add(-5*time.Second) // exactly maxAge still counts
	if got := staleShards(last, 4, now, 5*time.Second); len(got) != 0 {
		t.Fatalf("stale %v, want none", got)
	}
	if got := staleShards(nil, 2, now, time.Second); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("no reports: stale %v, want [0 1]", got)
	}
}

func TestWatchdogPingsOnlyWhileShardsLive(t *testing.T) {
	var st watchdogState
	steps := []struct {
		stale         []int
		allReady      bool
		ping, changed bool
	}{
		{[]int{0, 1}, false, true, true},  // startup: shards not up yet, the agent vouches
		{[]int{1}, false, true, true},     // still starting
		{nil, false, true, true},          // every shard alive: startup over
		{nil, true, true, false},          // steady state
		{[]int{1}, true, false, true},     // shard 1 silent: stop feeding systemd
		{[]int{1}, false, false, false},   // still silent (and restarted: not ready)
		{nil, true, true, true},           // back: feed again
		{[]int{0, 1}, false, false, true}, // never back to startup's free pass
	}
	for i, s := range steps {
		ping, changed := st.tick(s.stale, s.allReady)
		if ping != s.ping || changed != s.changed {
			t.Fatalf("step %d (stale %v ready %v): ping=%v changed=%v, want ping=%v changed=%v", i, s.stale, s.allReady, ping, changed, s.ping, s.changed)
		}
	}
}

func TestWatchdogShardHangingRightAfterReady(t *testing.T) {
	// Shard 1 got ready but froze before its first heartbeat reached the
	// watchdog: readiness ends the startup pass, so systemd is not fed.
	var st watchdogState
	if ping, _ := st.tick([]int{0, 1}, false); !ping {
		t.Fatal("startup must be fed")
	}
	if ping, _ := st.tick([]int{1}, true); ping {
		t.Fatal("fed the watchdog with shard 1 silent after every shard was ready")
	}
}

func TestLivenessObserve(t *testing.T) {
	var l liveness
	now := time.Unix(50, 0)
	l.observe(0, now.Add(-10*time.Second))
	l.observe(1, now)
	if got := l.stale(2, now, 5*time.Second); !slices.Equal(got, []int{0}) {
		t.Fatalf("stale %v, want [0]", got)
	}
	l.observe(0, now)
	if got := l.stale(2, now, 5*time.Second); len(got) != 0 {
		t.Fatalf("stale %v, want none", got)
	}
}
