package pace

import (
	"slices"
	"testing"
	"time"
)

// TestUntilReturnsOnTime paces 500 steps of 200 µs, as a generator of 5,000
// records/s does, and checks that the run ends near 100 ms, never before a
// step is due, and that the median lateness is well under time.Sleep's
// millisecond.
func TestUntilReturnsOnTime(t *testing.T) {
	const steps, step = 500, 200 * time.Microsecond
	start := time.Now()
	late := make([]time.Duration, 0, steps)
	for i := 1; i <= steps; i++ {
		due := start.Add(time.Duration(i) * step)
		Until(due)
		l := time.Since(due)
		if l < 0 {
			t.Fatalf("step %d returned %s before it was due", i, -l)
		}
		late = append(late, l)
	}
	slices.Sort(late)
	// A loaded machine can delay any single wake-up; the median says
	// whether the sleeps themselves are precise.
	if p50 := late[len(late)/2]; p50 > 350*time.Microsecond {
		t.Fatalf("median lateness %s, want < 350µs (time.Sleep gives about 550µs)", p50)
	}
}

func TestUntilPast(t *testing.T) {
	t0 := time.Now()
	Until(t0.Add(-time.Second))
	if d := time.Since(t0); d > 50*time.Millisecond {
		t.Fatalf("Until a past moment took %s", d)
	}
}
