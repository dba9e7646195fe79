// Package bench measures appends to the partition log (storage.Log) next to
// the raw disk measured the same way: plain os.File WriteAt + fdatasync of the
// same byte counts, into a file preallocated in the log's steps. It drives the
// storagebench command and the benchmarks of internal/storage. Unstable: for
// benchmarks only.
//
// A Run is one scenario on fresh files: Prepare opens them, Go drives the
// appenders until a count or a deadline, Close removes everything. The
// caller owns the Run and calls its methods from one goroutine.
package bench

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/ailurus/ailurus/internal/batch/batchtest"
	"github.com/ailurus/ailurus/internal/pace"
	"golang.org/x/sys/unix"
)

// RecordBytes is the value size of every record.
const RecordBytes = 1024

// Engine is what the appenders write through.
type Engine int

const (
	LogBuffered Engine = iota // storage.Log, default options (page cache + fdatasync)
	LogDirect                 // storage.Log with Options.Direct (O_DIRECT + fdatasync)
	RawBuffered               // os.File WriteAt + fdatasync per append
	RawDirect                 // the same with O_DIRECT, lengths padded to 4 KiB
)

// Engines lists every engine in table order.
var Engines = []Engine{LogBuffered, LogDirect, RawBuffered, RawDirect}

func (e Engine) String() string {
	switch e {
	case LogBuffered:
		return "log (buffered)"
	case LogDirect:
		return "log (O_DIRECT)"
	case RawBuffered:
		return "raw os.File+fdatasync"
	case RawDirect:
		return "raw O_DIRECT+fdatasync"
	}
	return fmt.Sprintf("engine(%d)", int(e))
}

// Short names e for benchmark names: log-buffered, raw-direct, ...
func (e Engine) Short() string {
	return [...]string{"log-buffered", "log-direct", "raw-buffered", "raw-direct"}[e]
}

// IsLog says whether e goes through storage.Log.
func (e Engine) IsLog() bool { return e == LogBuffered || e == LogDirect }

// Shape is the load: batch size, partitions and appenders.
type Shape struct {
	Name       string
	Records    int // records of RecordBytes per batch
	Partitions int // logs (or raw files), all sharing one storage.Flusher
	Appenders  int // concurrent appenders per partition, one batch per Append
}

// Scenario is a shape written through one engine.
type Scenario struct {
	Shape
	Engine Engine
}

func (s Scenario) String() string { return s.Name + " " + s.Engine.String() }

// DefaultFlusherParallel is the bound the benchmark gives the logs' shared
// Flusher: the shard's (shard.New, shard/process.go), above the 12
// partitions written at once, so that their fdatasyncs go out together. A
// bound below the number of partitions queues the extra flushes one after
// another: at 4 (storage.Open's default for a private Flusher), 12 logs
// with one appender each reached about 45% of the appends/s of 12 raw
// files; at 12 or more, par (2026-11, this machine).
const DefaultFlusherParallel = 16

// Setup is what every run of a suite shares.
type Setup struct {
	Dir string // a fresh directory is made under it per run
	// FlusherParallel bounds the fdatasyncs the logs' shared Flusher issues
	// at once (storage.Open's private default is 4).
	FlusherParallel int
}

// Stop ends Go: after N appends in all (N > 0), else at Until. With Pace
// set, each appender starts an append at most once per Pace (a paced
// writer's fdatasyncs find the disk and the journal idle, unlike
// back-to-back ones).
type Stop struct {
	N     int64
	Until time.Time
	Pace  time.Duration
}

// Result is what one run measured.
type Result struct {
	Elapsed time.Duration
	Appends int64 // Append calls (raw: WriteAt+fdatasync pairs), one batch each
	Bytes   int64 // batch bytes appended (raw O_DIRECT padding not counted)
	Syncs   int64 // fdatasyncs of data files
	// PeakParallelSyncs is the most fdatasyncs in flight at once since
	// Prepare (not reset by Go).
	PeakParallelSyncs int64
	Latency           *hdrhistogram.Histogram // per append, µs
}

// MBps is appended bytes per second, in 10^6 bytes.
func (r Result) MBps() float64 { return float64(r.Bytes) / r.Elapsed.Seconds() / 1e6 }

// AppendsPerSec counts Append calls per second.
func (r Result) AppendsPerSec() float64 { return float64(r.Appends) / r.Elapsed.Seconds() }

// BatchesPerSync is the group-commit factor: batches made durable per fdatasync.
func (r Result) BatchesPerSync() float64 {
	if r.Syncs == 0 {
		return 0
	}
	return float64(r.Appends) / float64(r.Syncs)
}

// Latency at percentile p (0-100).
func (r Result) Percentile(p float64) time.Duration {
	return time.Duration(r.Latency.ValueAtPercentile(p)) * time.Microsecond
}

func newHistogram() *hdrhistogram.Histogram { return hdrhistogram.New(1, 60_000_000, 3) }

// target is one partition's writer: a log or a raw file.
type target interface {
	// appendBatch writes b (which it may modify) durably.
	appendBatch(b []byte) error
	close() error
}

// Run is one prepared scenario.
type Run struct {
	sc      Scenario
	dir     string
	targets []target
	// batches has one batch per appender: Append rewrites its offset fields.
	batches    [][]byte
	batchBytes int
	stats      func() (appends, bytes, syncs, peak int64)
}

// Prepare makes a fresh directory under s.Dir and opens the scenario's logs
// or files in it.
func Prepare(sc Scenario, s Setup) (*Run, error) {
	dir, err := os.MkdirTemp(s.Dir, "storagebench-")
	if err != nil {
		return nil, err
	}
	r := &Run{sc: sc, dir: dir}
	for range sc.Partitions * sc.Appenders {
		r.batches = append(r.batches, batchtest.Values(time.Now().UnixMilli(), sc.Records, RecordBytes))
	}
	r.batchBytes = len(r.batches[0])
	if sc.Engine.IsLog() {
		err = r.openLogs(s)
	} else {
		err = r.openRaw()
	}
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// BatchBytes is the size of one batch.
func (r *Run) BatchBytes() int { return r.batchBytes }

// Go runs the appenders until stop and returns what they measured. Go may be
// called again on the same Run; each call counts only its own appends.
func (r *Run) Go(stop Stop) (Result, error) {
	a0, b0, s0, _ := r.stats()
	n := len(r.batches)
	hists := make([]*hdrhistogram.Histogram, n)
	errs := make([]error, n)
	var issued atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		hists[i] = newHistogram()
		t := r.targets[i/r.sc.Appenders]
		wg.Add(1)
		go func(h *hdrhistogram.Histogram, b []byte) {
			defer wg.Done()
			for {
				if stop.N > 0 {
					if issued.Add(1) > stop.N {
						return
					}
				} else if !time.Now().Before(stop.Until) {
					return
				}
				t0 := time.Now()
				if err := t.appendBatch(b); err != nil {
					errs[i] = err
					return
				}
				h.RecordValue(time.Since(t0).Microseconds())
				if stop.Pace > 0 {
					pace.Until(t0.Add(stop.Pace))
				}
			}
		}(hists[i], r.batches[i])
	}
	wg.Wait()
	res := Result{Elapsed: time.Since(start), Latency: hists[0]}
	for _, h := range hists[1:] {
		res.Latency.Merge(h)
	}
	a1, b1, s1, peak := r.stats()
	res.Appends, res.Bytes, res.Syncs, res.PeakParallelSyncs = a1-a0, b1-b0, s1-s0, peak
	for _, err := range errs {
		if err != nil {
			return res, fmt.Errorf("%s: %w", r.sc, err)
		}
	}
	return res, nil
}

// Close closes the files, removes the run's directory and syncs the
// filesystem, so the next run does not pay for this one's leftovers.
func (r *Run) Close() error {
	var first error
	for _, t := range r.targets {
		if err := t.close(); err != nil && first == nil {
			first = err
		}
	}
	if err := os.RemoveAll(r.dir); err != nil && first == nil {
		first = err
	}
	unix.Sync()
	return first
}
