package storage

import (
	"fmt"
	"time"

	"github.com/ailurus/ailurus/internal/batch"
)

// AppendResult says where appended batches landed.
type AppendResult struct {
	BaseOffset   int64 // offset of the first record of the first batch
	LastOffset   int64 // offset of the last record of the last batch
	FirstOrdinal int64 // ordinal of the first batch (the n-th batch ever appended)
}

// Append validates every batch, then writes them in order as one unit,
// assigning offsets: each batch's base offset and partition leader epoch are
// overwritten in place with the next offset and term (the CRC does not cover
// them). If any batch is bad nothing is written and the error wraps
// ErrCorruptBatch or ErrInvalidBatch.
//
// In the durable mode Append returns once the bytes are on disk; concurrent
// appenders share one fdatasync (group commit). With WriteCaching it returns
// once they are in the page cache and a flush follows within flush.ms.
func (l *Log) Append(term int32, batches ...[]byte) (AppendResult, error) {
	res, seq, err := l.Write(term, batches...)
	if err != nil {
		return res, err
	}
	return res, l.WaitDurable(seq)
}

// write puts the batches in the log under mu and returns the group-commit
// sequence that covers them.
func (l *Log) write(term int32, batches [][]byte, total int64) (AppendResult, int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return AppendResult{}, 0, ErrClosed
	}
	if l.failed != nil {
		return AppendResult{}, 0, l.failed
	}
	var res AppendResult
	for i, b := range batches {
		a := l.active()
		if l.needsRoll(a, int64(term), int64(len(b))) {
			if err := l.roll(int64(term)); err != nil {
				err = l.fail(err)
				l.dropUnsynced(a) // if sealing failed to sync it
				return res, 0, err
			}
			a = l.active()
		}
		batch.SetBaseOffset(b, a.nextOffset)
		batch.SetLeaderEpoch(b, term)
		h, _ := batch.Parse(b)
		if err := l.ensureAllocated(a, int64(len(b))); err != nil {
			return res, 0, l.fail(err)
		}
		pos := a.size
		if err := a.w.writeAt(b, pos); err != nil {
			return res, 0, l.fail(fmt.Errorf("write %s: %w", a.path, err))
		}
		if a.batches == 0 {
			a.firstWrite = l.env.Now()
		}
		if i == 0 {
			res.BaseOffset = h.BaseOffset
			res.FirstOrdinal = a.baseOrdinal + a.batches
		}
		res.LastOffset = h.LastOffset()
		a.addBatch(h, pos, l.opts.IndexIntervalBytes)
	}
	l.written += total
	l.stats.Appends.Add(1)
	l.stats.Batches.Add(int64(len(batches)))
	l.stats.Bytes.Add(total)
	if l.opts.WriteCaching {
		l.scheduleFlush()
	}
	return res, l.written, nil
}

// fail marks the log failed: after a failed write or fsync the state of the
// page cache is unknown, so only reopening (recovery from disk) may continue.
func (l *Log) fail(err error) error {
	if l.failed == nil {
		l.failed = fmt.Errorf("%w: %w", ErrFailed, err)
		l.log.Error("partition log failed; reopen to recover", "err", err)
	}
	return l.failed
}

func (l *Log) needsRoll(a *segment, term, size int64) bool {
	if term != a.term {
		return true
	}
	if a.batches == 0 {
		return false
	}
	if a.size+size > l.opts.SegmentBytes {
		return true
	}
	return l.opts.SegmentMs > 0 && l.env.Now().Sub(a.firstWrite) >= time.Duration(l.opts.SegmentMs)*time.Millisecond
}

// minPrealloc is the first preallocation step of a segment.
const minPrealloc = 256 << 10

// FirstPrealloc is the disk space the first append to a new segment
// reserves with these options (0: no preallocation).
func (o Options) FirstPrealloc() int64 {
	if o.PreallocBytes == 0 {
		return 0
	}
	return min(o.PreallocBytes, minPrealloc, max(o.SegmentBytes, 0))
}

// ensureAllocated preallocates the active file ahead of the appends so that
// they do not grow it one block at a time. The step starts at minPrealloc
// and doubles with the file up to PreallocBytes: a partition holding a few
// records reserves little disk (at a fixed 32 MiB step, 10,000 partitions of
// one record each reserved 312 GiB), while a busy one soon reserves
// PreallocBytes at a time.
func (l *Log) ensureAllocated(a *segment, n int64) error {
	if l.opts.PreallocBytes == 0 || a.size+n <= a.allocated {
		return nil
	}
	step := min(l.opts.PreallocBytes, max(minPrealloc, a.allocated))
	if rest := l.opts.SegmentBytes - a.allocated; rest > 0 && rest < step {
		step = rest
	}
	if step < n {
		step = n
	}
	if err := a.f.Allocate(a.allocated, step); err != nil {
		return err
	}
	a.allocated += step
	return nil
}

// roll seals the active segment and starts a new one at the log end. Called
// with mu held. Sealing makes the old segment durable (data, size, index)
// before the new file exists, which is what lets recovery treat any damage in
// a sealed segment as corruption rather than a torn write.
func (l *Log) roll(term int64) error {
	a := l.active()
	if a.batches == 0 {
		// Nothing to keep: replace the empty segment by one named for the new
		// term. The new one is created first so a crash leaves a usable log.
		s, err := l.createSegment(a.baseOffset, term, a.baseOrdinal)
		if err != nil {
			return err
		}
		l.replaceSegments(len(l.segs)-1, len(l.segs), s)
		a.w.close()
		a.removed = true
		a.release()
		if err := l.removeSegmentFiles(a.path); err != nil {
			return err
		}
		return l.env.FS.SyncDir(l.dir)
	}
	if err := l.seal(a); err != nil {
		return err
	}
	s, err := l.createSegment(a.nextOffset, term, a.baseOrdinal+a.batches)
	if err != nil {
		return err
	}
	l.replaceSegments(len(l.segs), len(l.segs), s)
	l.stats.Rolls.Add(1)
	return nil
}

// seal makes a durable and read-only: data synced, file cut to its data,
// index complete and synced.
func (l *Log) seal(a *segment) error {
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", a.path, err)
	}
	a.synced = a.mark()
	l.stats.Syncs.Add(1)
	processSyncs.Add(1)
	// Cut what preallocation or O_DIRECT's padded last block left past the
	// data (the padding is not counted in allocated).
	fsize, err := a.f.Size()
	if err != nil {
		return fmt.Errorf("stat %s: %w", a.path, err)
	}
	if fsize > a.size {
		if err := a.f.Truncate(a.size); err != nil {
			return fmt.Errorf("truncate %s: %w", a.path, err)
		}
		if err := a.f.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", a.path, err)
		}
		a.allocated = a.size
	}
	if err := a.writePendingIndex(); err != nil {
		return err
	}
	if err := a.idxFile.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", a.indexPath, err)
	}
	if err := a.idxFile.Close(); err != nil {
		return err
	}
	a.idxFile = nil
	if err := a.w.close(); err != nil {
		return err
	}
	a.w = nil
	a.sealed = true
	return nil
}

// replaceSegments swaps segs[i:j] for repl, copying so readers holding the
// old slice are unaffected.
func (l *Log) replaceSegments(i, j int, repl ...*segment) {
	n := make([]*segment, 0, len(l.segs)-(j-i)+len(repl))
	n = append(n, l.segs[:i]...)
	n = append(n, repl...)
	n = append(n, l.segs[j:]...)
	l.segs = n
}

// waitDurable blocks until every byte up to sequence seq is fdatasync'd.
// Group commit: the first waiter to find no sync running syncs everything
// written so far; the rest wait for it and are covered by the same fdatasync.
func (l *Log) waitDurable(seq int64) error {
	l.smu.Lock()
	defer l.smu.Unlock()
	for l.durable < seq {
		if l.syncErr != nil {
			return l.syncErr
		}
		if l.syncing {
			l.scond.Wait()
			continue
		}
		l.syncing = true
		l.smu.Unlock()
		target, err := l.syncOnce()
		l.smu.Lock()
		l.syncing = false
		if err != nil {
			l.syncErr = err
		} else if target > l.durable {
			l.durable = target
		}
		l.scond.Broadcast()
	}
	return nil
}

// syncOnce fdatasyncs the active segment and returns the sequence it covers.
// Earlier segments were synced when they were sealed.
func (l *Log) syncOnce() (int64, error) {
	l.mu.Lock()
	if l.failed != nil {
		l.mu.Unlock()
		return 0, l.failed
	}
	a := l.active()
	target := l.written
	mark := a.mark()
	if !a.acquire() {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	l.mu.Unlock()
	err := l.env.Flusher.Sync(a.f)
	a.release()
	l.stats.Syncs.Add(1)
	processSyncs.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		err = l.fail(fmt.Errorf("fdatasync %s: %w", a.path, err))
		l.dropUnsynced(a)
		return 0, err
	}
	if mark.size > a.synced.size && mark.size <= a.size { // unless truncated meanwhile
		a.synced = mark
	}
	if a == l.active() && a.indexDue(a.synced.size) {
		// The index may lag the durable data, never lead it: batches
		// appended while this fdatasync ran are not covered by it.
		if err := a.writePendingIndexBelow(a.synced.size); err != nil {
			return 0, l.fail(err)
		}
	}
	return target, nil
}

// dropUnsynced (mu held, log failed) follows a failed fdatasync of a. Linux
// may have dropped the dirty pages while still serving them from the page
// cache ("fsyncgate"), so no later fdatasync would write them: a reopen in
// this process would read back, and build on, bytes the disk does not have,
// and the next crash would lose what was acknowledged after them. Cut the
// active segment back to its last successful fdatasync so that the log, and
// a reopen, see what the disk has. Appends past it were not acknowledged in
// the durable mode; with write caching they were, as a crash would lose them.
func (l *Log) dropUnsynced(a *segment) {
	m := a.synced
	if a != l.active() || a.sealed || m.size >= a.size {
		return
	}
	if err := l.truncateTo(len(l.segs)-1, a, m.size, m.batches, m.maxTs, m.nextOffset); err != nil {
		l.log.Error("cannot cut the unsynced tail after a failed fdatasync", "segment", a.path, "err", err)
		return
	}
	if l.hw.Load() > m.nextOffset {
		l.hw.Store(m.nextOffset)
	}
	if l.lso.Load() > m.nextOffset {
		l.lso.Store(m.nextOffset)
	}
}

// Flush makes everything appended so far durable (write-caching mode, before
// a clean shutdown, or for callers that need a barrier).
func (l *Log) Flush() error {
	l.mu.Lock()
	seq := l.written
	l.mu.Unlock()
	return l.waitDurable(seq)
}

// scheduleFlush (write caching, mu held) arms the flush.ms timer, or flushes
// at once when flush.bytes are waiting.
func (l *Log) scheduleFlush() {
	l.smu.Lock()
	pending := l.written - l.durable
	l.smu.Unlock()
	if pending >= l.opts.FlushBytes {
		go l.Flush()
		return
	}
	if l.flushTimer == nil {
		l.flushTimer = time.AfterFunc(time.Duration(l.opts.FlushMs)*time.Millisecond, func() {
			l.mu.Lock()
			l.flushTimer = nil
			closed := l.closed
			l.mu.Unlock()
			if !closed {
				l.Flush()
			}
		})
	}
}

// Durable reports whether everything appended so far is on disk. With write
// caching it is false until the next flush.
func (l *Log) Durable() bool {
	l.mu.Lock()
	w := l.written
	l.mu.Unlock()
	l.smu.Lock()
	defer l.smu.Unlock()
	return l.durable >= w
}
