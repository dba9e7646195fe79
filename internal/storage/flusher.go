package storage

import (
	"sync/atomic"
	"time"
)

// Flusher issues the fdatasyncs of every log in a process. Each log already
// folds its concurrent appenders into one fdatasync (group commit); the
// flusher lets the syncs of different partitions run at the same time, up to
// a bound, instead of one after another, so the disk and the filesystem
// journal can merge them, without one OS thread per partition blocked in
// fdatasync. Sync may be called from any goroutine and blocks until done.
type Flusher struct {
	sem      chan struct{}
	syncs    atomic.Int64
	inFlight atomic.Int64
	peak     atomic.Int64
}

// NewFlusher allows up to parallel fdatasyncs at once.
func NewFlusher(parallel int) *Flusher {
	if parallel < 1 {
		parallel = 1
	}
	return &Flusher{sem: make(chan struct{}, parallel)}
}

// Sync fdatasyncs f.
func (fl *Flusher) Sync(f File) error {
	fl.sem <- struct{}{}
	n := fl.inFlight.Add(1)
	for {
		p := fl.peak.Load()
		if n <= p || fl.peak.CompareAndSwap(p, n) {
			break
		}
	}
	start := time.Now()
	err := f.Sync()
	if obs := syncObserver.Load(); obs != nil {
		(*obs)(time.Since(start))
	}
	fl.inFlight.Add(-1)
	fl.syncs.Add(1)
	<-fl.sem
	return err
}

// Syncs is the number of fdatasyncs issued; PeakParallel the most at once.
func (fl *Flusher) Syncs() int64        { return fl.syncs.Load() }
func (fl *Flusher) PeakParallel() int64 { return fl.peak.Load() }

// syncObserver is told how long each group commit's fdatasync took.
var syncObserver atomic.Pointer[func(time.Duration)]

// ObserveSyncs makes every Flusher of the process report how long each
// fdatasync of a group commit took (the wait for a free slot left out), for a
// latency histogram. nil stops it.
func ObserveSyncs(f func(time.Duration)) {
	if f == nil {
		syncObserver.Store(nil)
		return
	}
	syncObserver.Store(&f)
}
