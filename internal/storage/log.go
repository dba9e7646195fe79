// Package storage is the partition log: a directory of segment files holding
// Kafka v2 record batches byte for byte, with sparse indexes, group-committed
// durable appends, reads that hand out file ranges for sendfile, crash
// recovery, retention, prefix and suffix truncation and compaction. It is also
// the Raft log of the partition (see internal/raftlog). It knows nothing of the
// network, Kafka requests or Raft's transport. README.md has the on-disk
// layout and the recovery argument.
package storage

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Errors. Callers map them to Kafka error codes: ErrCorruptBatch to
// CORRUPT_MESSAGE, ErrInvalidBatch to INVALID_RECORD, ErrOffsetOutOfRange to
// OFFSET_OUT_OF_RANGE, ErrFailed to KAFKA_STORAGE_ERROR.
var (
	ErrCorruptBatch     = errors.New("corrupt record batch")
	ErrInvalidBatch     = errors.New("invalid record batch")
	ErrOffsetOutOfRange = errors.New("offset out of range")
	// ErrFailed: a write or fsync failed. The log refuses further appends
	// until it is closed and reopened, which recovers it from disk: after a
	// failed fsync the page cache can no longer be trusted.
	ErrFailed = errors.New("partition log failed")
	ErrClosed = errors.New("partition log closed")
	// ErrNotBoundary: a truncation point inside a batch.
	ErrNotBoundary = errors.New("offset is not a batch boundary")
	// ErrCorruptSegment: a sealed segment does not read back as written.
	// Opening refuses rather than silently dropping acknowledged data.
	ErrCorruptSegment = errors.New("sealed segment corrupt")
)

// Env carries the log's dependencies. Zero fields get production defaults.
type Env struct {
	FS      FS           // default OS
	Flusher *Flusher     // shared by every log of the process; default a private one
	Logger  *slog.Logger // default slog.Default()
	Now     func() time.Time
	// CanRemove, if set, is asked before retention removes a sealed segment
	// (tiered storage: only once uploaded). It is called with the log's
	// lock held and must not block or call back into the log.
	CanRemove func(SegmentInfo) bool
	// CompactionMapBytes bounds the key map of one Compact pass (Kafka's
	// log.cleaner.dedupe.buffer.size): about 32 bytes a key; default
	// 64 MiB. The caller bounds how many passes run at once.
	CompactionMapBytes int64
}

// Log is one partition's log. All methods are safe for concurrent use.
//
// Locks (LOCKS.md): compaction.mu (compact.go), then mu, then smu. mu guards
// the segment list and every segment's in-memory state; IO for appends
// happens under mu so bytes land in offset order, reads take mu only to find
// positions. smu guards the group commit state and is never held across IO.
type Log struct {
	dir  string
	opts Options
	env  Env
	log  *slog.Logger

	mu          sync.Mutex
	segs        []*segment // sorted by base offset; the last is active. Copy on write.
	startOffset int64      // log start offset (DeleteRecords, retention)
	written     int64      // bytes appended over the log's life: the group-commit sequence
	failed      error
	closed      bool
	flushTimer  *time.Timer // write caching: armed while unflushed bytes wait

	smu     sync.Mutex
	scond   *sync.Cond
	syncing bool
	durable int64 // written-sequence known durable
	syncErr error

	hw, lso atomic.Int64
	hwMu    sync.Mutex
	hwCh    chan struct{} // closed and replaced when hw or lso moves

	stats Stats

	compaction compaction // compact.go
}

// Open opens (creating if needed) the log in dir and recovers it.
func Open(dir string, opts Options, env Env) (*Log, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	if env.FS == nil {
		env.FS = OS
	}
	if env.Flusher == nil {
		env.Flusher = NewFlusher(4)
	}
	if env.Logger == nil {
		env.Logger = slog.Default()
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	l := &Log{dir: dir, opts: opts, env: env, log: env.Logger.With("subsys", "storage", "dir", dir)}
	l.scond = sync.NewCond(&l.smu)
	l.hwCh = make(chan struct{})
	if err := mkdirDurable(env.FS, dir); err != nil {
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	if err := l.recover(); err != nil {
		l.closeFiles()
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	l.hw.Store(l.startOffset)
	l.lso.Store(l.startOffset)
	return l, nil
}

// Close flushes and closes the log. Appends waiting for durability finish
// first; later calls fail with ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	if l.flushTimer != nil {
		l.flushTimer.Stop()
	}
	written, failed := l.written, l.failed
	l.mu.Unlock()
	var err error
	if failed == nil {
		err = l.waitDurable(written)
	}
	l.mu.Lock()
	if err == nil && l.failed == nil {
		if a := l.active(); a != nil {
			err = a.writePendingIndex()
		}
	}
	l.closeFiles()
	l.mu.Unlock()
	return err
}

func (l *Log) closeFiles() {
	for _, s := range l.segs {
		if s.w != nil {
			s.w.close()
		}
		s.release()
	}
	l.segs = nil
}

func (l *Log) active() *segment {
	if len(l.segs) == 0 {
		return nil
	}
	return l.segs[len(l.segs)-1]
}

// Dir is the log's directory.
func (l *Log) Dir() string { return l.dir }

// StartOffset is the log start offset: the first offset a fetch may ask for.
func (l *Log) StartOffset() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.startOffset
}

// EndOffset is the log end offset: the offset the next batch will get.
func (l *Log) EndOffset() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.active().nextOffset
}

// Segments describes the segments, oldest first.
func (l *Log) Segments() []SegmentInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]SegmentInfo, len(l.segs))
	for i, s := range l.segs {
		out[i] = s.info()
	}
	return out
}

// Size is the bytes of batch data in the log.
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, s := range l.segs {
		n += s.size
	}
	return n
}

// findSegment is the index of the segment holding offset o: the last one
// whose base is <= o. -1 if o is below the first segment.
func (l *Log) findSegment(o int64) int {
	return sort.Search(len(l.segs), func(i int) bool { return l.segs[i].baseOffset > o }) - 1
}

// Stats count what the log did; read with Snapshot.
type Stats struct {
	Appends      atomic.Int64 // Append calls that wrote
	Batches      atomic.Int64
	Bytes        atomic.Int64
	Syncs        atomic.Int64 // fdatasyncs of segment data
	Rolls        atomic.Int64
	TruncatedOff atomic.Int64 // bytes cut by recovery
}

// processSyncs counts the fdatasyncs of segment data of every log of the
// process, closed ones included (ProcessSyncs).
var processSyncs atomic.Int64

// ProcessSyncs is the number of fdatasyncs of segment data made by every
// log of this process so far: a counter for metrics, which, unlike a log's
// Stats, does not go back when a partition closes.
func ProcessSyncs() int64 { return processSyncs.Load() }

// StatsSnapshot is a copy of Stats.
type StatsSnapshot struct {
	Appends, Batches, Bytes, Syncs, Rolls, RecoveryCutBytes int64
}

// Stats returns the counters.
func (l *Log) Stats() StatsSnapshot {
	return StatsSnapshot{
		Appends: l.stats.Appends.Load(), Batches: l.stats.Batches.Load(), Bytes: l.stats.Bytes.Load(),
		Syncs: l.stats.Syncs.Load(), Rolls: l.stats.Rolls.Load(), RecoveryCutBytes: l.stats.TruncatedOff.Load(),
	}
}

func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
