// Package pace sleeps until a moment with sub-millisecond precision, for the
// open-loop load generators.
//
// time.Sleep is not precise enough for them: the Go runtime waits for timers
// in epoll with a millisecond timeout, so on an idle process a 200 µs sleep
// takes about 1.1 ms (measured here: p50 1.13 ms). A generator pacing 5,000
// records/s then sends bursts every millisecond, and each record's latency,
// counted from when it was due, carries up to a millisecond of the
// generator's own lateness. A nanosleep(2) blocks only the calling thread and
// wakes within the kernel's timer slack (p50 293 µs for 200 µs here).
package pace

import (
	"time"

	"golang.org/x/sys/unix"
)

// Until returns at t or soon after (within the kernel's timer slack, about
// 50-100 µs), or at once when t has passed.
func Until(t time.Time) {
	for {
		d := time.Until(t)
		if d <= 0 {
			return
		}
		ts := unix.NsecToTimespec(d.Nanoseconds())
		// EINTR (the runtime's preemption signal) loops and sleeps the rest.
		_ = unix.Nanosleep(&ts, nil)
	}
}
