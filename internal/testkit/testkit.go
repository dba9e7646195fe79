// Package testkit holds what tests across the module share: a settable
// clock for code that reads the time through a Now func, and CheckFor, the
// poll that waits for a condition.
package testkit

import (
	"sync"
	"testing"
	"time"
)

// Clock stands still until Advance moves it. Safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now is what the clock reads.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// CheckFor polls fn until it returns nil, and fails t with fn's last error
// once timeout has passed. It polls every millisecond at first, backing off
// to every 50 ms, so quick conditions are seen at once and slow ones (an
// HTTP scrape, a node restart) are not polled in a busy loop.
func CheckFor(t testing.TB, timeout time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v: %v", timeout, err)
		}
		time.Sleep(wait)
		wait = min(2*wait, 50*time.Millisecond)
	}
}
