package storage

import (
	"fmt"
	"time"

	"github.com/ailurus/ailurus/internal/batch"
)

// EnforceRetention removes sealed segments from the front of the log while
// the log is over retention.bytes or the segment's newest record is older
// than retention.ms. It never removes the active segment, nor data at or
// above the high watermark, nor a segment that Env.CanRemove holds back. It
// returns the number of segments removed.
func (l *Log) EnforceRetention(now time.Time) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	var total int64
	for _, s := range l.segs {
		total += s.size
	}
	hw := l.hw.Load()
	n := 0
	for len(l.segs) > 1 {
		s := l.segs[0]
		bySize := l.opts.RetentionBytes >= 0 && total-s.size >= l.opts.RetentionBytes
		byTime := l.opts.RetentionMs >= 0 && s.maxTs != noTimestamp && s.maxTs < now.UnixMilli()-l.opts.RetentionMs
		if !bySize && !byTime || s.nextOffset > hw {
			break
		}
		if l.env.CanRemove != nil && !l.env.CanRemove(s.info()) {
			break
		}
		if err := l.dropFront(l.segs[1].baseOffset); err != nil {
			return n, err
		}
		total -= s.size
		n++
	}
	return n, nil
}

// SetStartOffset moves the log start offset forward (DeleteRecords): offsets
// below o can no longer be read, and segments wholly below it are removed. o
// may not pass the high watermark. Moving it backwards is a no-op.
func (l *Log) SetStartOffset(o int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if hw := l.hw.Load(); o > hw {
		return fmt.Errorf("%w: start offset %d is past the high watermark %d", ErrOffsetOutOfRange, o, hw)
	}
	if o <= l.startOffset {
		return nil
	}
	return l.dropFront(o)
}

// dropFront (mu held) makes o the start offset durably, then removes the
// segments wholly below it. The checkpoint is written first, so a crash in
// between leaves segments that the next open removes.
func (l *Log) dropFront(o int64) error {
	k := 0 // segments to remove
	for k < len(l.segs)-1 && l.segs[k+1].baseOffset <= o {
		k++
	}
	first := l.segs[k]
	ck := startCheckpoint{startOffset: o, firstBase: first.baseOffset, firstOrdinal: first.baseOrdinal}
	if err := writeFileAtomic(l.env.FS, l.dir, startCheckpointName, ck.encode()); err != nil {
		return l.fail(err)
	}
	l.startOffset = o
	gone := l.segs[:k]
	l.replaceSegments(0, k, nil...)
	for _, s := range gone {
		s.removed = true
		s.release()
		if err := l.removeSegmentFiles(s.path); err != nil {
			return l.fail(err)
		}
	}
	if len(gone) > 0 {
		if err := l.env.FS.SyncDir(l.dir); err != nil {
			return l.fail(err)
		}
	}
	if l.lso.Load() < o {
		l.lso.Store(o)
	}
	if l.hw.Load() < o {
		l.hw.Store(o)
	}
	return nil
}

// TruncateSuffix removes every batch at or after offset o, which must be the
// base offset of a batch or the log end (a Raft follower discarding a
// divergent tail). It is durable when it returns. The high watermark and last
// stable offset are lowered to o if above it.
func (l *Log) TruncateSuffix(o int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if l.failed != nil {
		return l.failed
	}
	end := l.active().nextOffset
	if o == end {
		return nil
	}
	if o < l.startOffset || o > end {
		return fmt.Errorf("%w: truncate at %d, log is [%d, %d]", ErrOffsetOutOfRange, o, l.startOffset, end)
	}
	i := l.findSegment(o)
	s := l.segs[i]
	pos, count, maxTs, err := l.locateBoundary(s, o)
	if err != nil {
		return err
	}
	if err := l.truncateTo(i, s, pos, count, maxTs, o); err != nil {
		return l.fail(err)
	}
	if l.hw.Load() > o {
		l.hw.Store(o)
	}
	if l.lso.Load() > o {
		l.lso.Store(o)
	}
	return nil
}

// TruncateOrdinal removes every batch whose ordinal is >= ord.
func (l *Log) TruncateOrdinal(ord int64) error {
	p, ok, err := l.FindOrdinal(ord)
	if err != nil {
		return err
	}
	if !ok {
		l.mu.Lock()
		a := l.active()
		next := a.baseOrdinal + a.batches
		l.mu.Unlock()
		if ord == next {
			return nil
		}
		return fmt.Errorf("%w: batch ordinal %d (next is %d)", ErrOffsetOutOfRange, ord, next)
	}
	return l.TruncateSuffix(p.BaseOffset)
}

// NextOrdinal is the ordinal the next appended batch will get.
func (l *Log) NextOrdinal() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.active()
	return a.baseOrdinal + a.batches
}

// FirstOrdinal is the ordinal of the first batch still in the log.
func (l *Log) FirstOrdinal() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.segs[0].baseOrdinal
}

// locateBoundary finds the position of the batch starting at o in s, with
// the number of batches and the newest timestamp before it.
func (l *Log) locateBoundary(s *segment, o int64) (pos, count, maxTs int64, err error) {
	e := floorByOffset(s.idx, uint32(o-s.baseOffset))
	pos, count, maxTs = int64(e.pos), int64(e.relOrdinal), e.maxTsBefore
	var hdr [batch.HeaderSize]byte
	for pos < s.size {
		if _, err := s.f.ReadAt(hdr[:], pos); err != nil {
			return 0, 0, 0, fmt.Errorf("read %s: %w", s.path, err)
		}
		h, err := batch.Parse(hdr[:])
		if err != nil {
			return 0, 0, 0, fmt.Errorf("%w: %s at %d: %w", ErrCorruptSegment, s.path, pos, err)
		}
		if h.BaseOffset == o {
			return pos, count, maxTs, nil
		}
		if h.BaseOffset > o {
			break
		}
		if h.MaxTimestamp > maxTs {
			maxTs = h.MaxTimestamp
		}
		pos += h.Size()
		count++
	}
	return 0, 0, 0, fmt.Errorf("%w: %d", ErrNotBoundary, o)
}

// truncateTo cuts the log at position pos of segment i (offset o): later
// segments go, segment i is cut and becomes the active one.
func (l *Log) truncateTo(i int, s *segment, pos, count, maxTs, o int64) error {
	// A group-commit sync already running may still mark the cut bytes'
	// sequence durable: harmless, since sequences are never reused and the
	// appends they covered are gone with the tail (Raft serialises StoreLogs
	// and DeleteRange, so none of them is still waiting).
	gone := append([]*segment(nil), l.segs[i+1:]...)
	if pos == 0 && i > 0 {
		gone = append([]*segment{s}, gone...)
	}
	// The index is cut before the data so it never points past it.
	keep := 0
	for keep < len(s.idx) && int64(s.idx[keep].pos) < pos {
		keep++
	}
	s.idx = s.idx[:keep]
	if keep > 0 {
		s.lastIdxPos = int64(s.idx[keep-1].pos)
	} else {
		s.lastIdxPos = -1
	}
	removeS := pos == 0 && i > 0
	// Later segments go first, newest first, and durably: a crash part way
	// must leave a prefix of the log, never s cut short with later segments
	// still after it (a hole in the offsets).
	if removeS {
		l.replaceSegments(i, len(l.segs), nil...)
	} else {
		l.replaceSegments(i+1, len(l.segs), nil...)
	}
	for k := len(gone) - 1; k >= 0; k-- {
		g := gone[k]
		g.removed = true
		if g.w != nil {
			g.w.close()
			g.w = nil
		}
		g.release()
		if err := l.removeSegmentFiles(g.path); err != nil {
			return err
		}
	}
	if err := l.env.FS.SyncDir(l.dir); err != nil {
		return err
	}
	if !removeS {
		if err := l.rewriteIndex(s, true); err != nil {
			return err
		}
		if err := s.f.Truncate(pos); err != nil {
			return fmt.Errorf("truncate %s: %w", s.path, err)
		}
		// The file is cut: reads must not look past pos even if the sync fails.
		s.size, s.allocated, s.batches, s.maxTs, s.nextOffset = pos, pos, count, maxTs, o
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", s.path, err)
		}
		s.synced = s.mark()
	}
	a := l.active()
	if a.sealed {
		if err := l.activate(a); err != nil {
			return err
		}
	} else if dw, ok := a.w.(*directWriter); ok {
		return dw.loadTail(a.size)
	}
	return nil
}

// SetHighWatermark is set by the replication layer: the offset below which
// batches are committed. Fetches serve up to it. It wakes Changed waiters.
func (l *Log) SetHighWatermark(o int64) { l.hw.Store(o); l.notify() }

// HighWatermark is the last value set (initially the log start offset).
func (l *Log) HighWatermark() int64 { return l.hw.Load() }

// SetLastStable is set by the transaction layer (LSO): read_committed fetches
// serve up to it.
func (l *Log) SetLastStable(o int64) { l.lso.Store(o); l.notify() }

// LastStable is the last value set (initially the log start offset).
func (l *Log) LastStable() int64 { return l.lso.Load() }

// Changed returns a channel closed at the next change of the high watermark
// or last stable offset: fetch long-polls wait on it.
func (l *Log) Changed() <-chan struct{} {
	l.hwMu.Lock()
	defer l.hwMu.Unlock()
	return l.hwCh
}

func (l *Log) notify() {
	l.hwMu.Lock()
	close(l.hwCh)
	l.hwCh = make(chan struct{})
	l.hwMu.Unlock()
}
