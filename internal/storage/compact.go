package storage

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// Compaction (cleanup.policy=compact) keeps the newest record of every key
// in the sealed segments below the high watermark, and drops tombstones
// (null values) once delete.retention.ms has passed. It rewrites segments in
// the background: each is rewritten into a temporary file without holding
// the log's lock, then swapped in (renamed over the original) in a short
// critical section. Readers holding the old segment keep reading its file
// descriptor, which outlives the rename.
//
// What never changes, so that the Raft log store and consumers are not
// disturbed: the offsets (a kept record keeps its offset, a batch its base
// offset and lastOffsetDelta, removed records leave gaps), the number of
// batches of a segment (a batch left without records stays as an empty
// batch, header only, so batch ordinals stay put), the batch's producer id,
// epoch and base sequence, its partition leader epoch and MaxTimestamp (so
// the time index and time retention see the same segment). Control batches
// and transactional batches are kept byte for byte: a transactional record
// may belong to an aborted transaction, so its key is neither used to
// remove older records nor are its records removed (no transaction index
// exists yet to tell committed from aborted).
//
// One pass (Compact):
//  1. Plan, under mu: the compactible segments are the sealed ones wholly
//     below the high watermark (committed data, which Raft never
//     truncates), a prefix of the log. Each gets a reader's reference.
//  2. Map: from the clean end of the previous pass (the log start after an
//     open), read every batch and note, per key, the offset of its newest
//     record (keyMap, bounded memory). If the map fills, the pass covers
//     only the offsets before the batch where it filled (mapEnd).
//  3. Rewrite, oldest segment first, every compactible segment below mapEnd,
//     the already clean ones included (newer records may supersede theirs):
//     a record is removed if the map knows a newer record of its key; a
//     tombstone is kept until its batch's delete horizon has passed; records
//     without a key, and batches that do not decode, are kept. A segment
//     in which nothing changes is read but not written.
//  4. Swap each rewritten segment in (swapCompacted), or abandon it if the
//     segment was removed or cut meanwhile.
//
// Memory: the key map (Env.CompactionMapBytes), plus the hashes of the keys
// of transactional records (at most an eighth of the map's key count, about
// as many bytes again as that share of the map), plus a few batches' worth
// of buffers.
//
// Tombstones use the delete horizon of KIP-534: the first pass that keeps a
// tombstone in a rewritten batch sets the batch's AttrDeleteHorizon bit and
// its baseTimestamp to now + delete.retention.ms (the records' timestamp
// deltas are rebased so their timestamps do not change); a later pass
// removes the batch's tombstones once now is past the horizon. So a
// tombstone lives at least delete.retention.ms after compaction first saw
// it, as the option says, whatever the clock of the producer that wrote it.
// A tombstone is removed only if no older record of its key can survive it:
// older non-transactional records were removed by the pass that first saw
// the tombstone (it covers every offset from the log start to the
// tombstone), and tombstones whose key appears in a kept transactional
// record are never removed.

// CompactStats says what one Compact pass did.
type CompactStats struct {
	SegmentsRewritten int
	BytesBefore       int64 // size of the rewritten segments before the pass
	BytesAfter        int64 // and after
	RecordsRemoved    int64 // superseded records and expired tombstones
	TombstonesRemoved int64 // of RecordsRemoved, the tombstones
	// CleanEnd is the offset up to which the log is compacted: below it
	// every key has only its newest record left. The next pass maps keys
	// from there.
	CleanEnd int64
	// MapFull: the key map filled before the end of the compactible range;
	// another pass goes on from CleanEnd.
	MapFull bool
	// Abandoned counts rewrites dropped because their segment was removed
	// or cut meanwhile.
	Abandoned int
}

// compaction is a Log's compaction bookkeeping, kept in memory and, after
// each pass that changes it, in compact.ckpt (checkpoint.go), so a reopened
// log resumes where the last pass left off. mu serialises Compact calls; it
// is taken before Log.mu and never while holding it. mu guards the other
// fields.
type compaction struct {
	mu       sync.Mutex
	cleanEnd int64 // offsets below it are compacted; maps start here
	// done: the last pass compacted everything below doneEnd (the end of
	// the compactible range then) and kept no tombstone whose horizon is
	// before nextExpiry (ms). A pass with nothing new to do returns early.
	done       bool
	doneEnd    int64
	nextExpiry int64
}

// defaultCompactionMapBytes is the key map's memory when Env leaves it 0:
// room for about 2.1 million keys per pass.
const defaultCompactionMapBytes = 64 << 20

// Compact runs one compaction pass over the log, if Options.Compact is set.
// It is meant for a background loop of the layer above (never called by the
// log itself); passes on one log are serialised. It may run concurrently
// with appends, reads, retention, truncation and Close: appends and reads
// are blocked only for each segment's swap. now is the compaction clock for
// tombstone horizons. Cancelling ctx stops the pass between batches,
// leaving the segments not yet swapped as they were.
//
// A pass reads every compactible segment, so its cost grows with the log;
// it returns at once when no segment was sealed below the high watermark
// since the last complete pass and no kept tombstone's horizon has passed.
// The caller decides how often to call it.
func (l *Log) Compact(ctx context.Context, now time.Time) (CompactStats, error) {
	var st CompactStats
	if !l.opts.Compact {
		return st, nil
	}
	c := &l.compaction
	c.mu.Lock()
	defer c.mu.Unlock()
	p, err := l.planCompaction(c.cleanEnd)
	if err != nil {
		return st, err
	}
	defer p.release()
	st.CleanEnd = p.from
	nowMs := now.UnixMilli()
	if len(p.segs) == 0 || (c.done && c.doneEnd == p.end && nowMs <= c.nextExpiry) {
		return st, nil
	}

	mapBytes := l.env.CompactionMapBytes
	if mapBytes <= 0 {
		mapBytes = defaultCompactionMapBytes
	}
	m := newKeyMap(mapBytes)
	mapEnd, err := l.buildKeyMap(ctx, p, m)
	if err != nil {
		c.done = false
		return st, err
	}
	st.MapFull = mapEnd < p.end
	if mapEnd == p.from && st.MapFull {
		l.log.Warn("compaction key map too small for one batch; raise its memory", "offset", mapEnd, "map_bytes", mapBytes)
	}

	f := newBatchFilter(l, m, mapEnd, nowMs, mapBytes)
	for _, ps := range p.segs {
		if ps.s.baseOffset >= mapEnd {
			break
		}
		r, err := l.compactSegment(ctx, ps, f)
		if err != nil {
			c.done = false
			return st, err
		}
		switch {
		case r.abandoned:
			st.Abandoned++
		case r.rewritten:
			st.SegmentsRewritten++
			st.BytesBefore += r.before
			st.BytesAfter += r.after
			st.RecordsRemoved += r.removed
			st.TombstonesRemoved += r.tombstones
		}
	}
	if f.undecodable > 0 {
		l.log.Warn("compaction kept batches it could not decode as they are", "batches", f.undecodable)
	}
	ck := compactCheckpoint{cleanEnd: mapEnd, done: !st.MapFull && st.Abandoned == 0, doneEnd: p.end, nextExpiry: f.nextExpiry}
	if ck != (compactCheckpoint{c.cleanEnd, c.doneEnd, c.nextExpiry, c.done}) {
		// The rewritten segments are durable (swapCompacted); this only
		// spares a reopened log a pass from the start.
		if err := writeFileAtomic(l.env.FS, l.dir, compactCheckpointName, ck.encode()); err != nil {
			l.log.Warn("compaction checkpoint not written; a reopened log compacts from its start", "err", err)
		}
	}
	c.cleanEnd, c.done, c.doneEnd, c.nextExpiry = ck.cleanEnd, ck.done, ck.doneEnd, ck.nextExpiry
	st.CleanEnd = mapEnd
	if st.SegmentsRewritten > 0 {
		l.log.Info("log compacted", "segments", st.SegmentsRewritten, "bytes_before", st.BytesBefore,
			"bytes_after", st.BytesAfter, "records_removed", st.RecordsRemoved,
			"tombstones_removed", st.TombstonesRemoved, "clean_end", mapEnd)
	}
	return st, nil
}

// compactPlan is what one pass works on, fixed under mu at its start.
type compactPlan struct {
	segs    []planSeg // the compactible segments, oldest first; each referenced
	from    int64     // the map starts at this offset (a batch boundary)
	fromPos int64     // position to scan from in the segment holding from
	end     int64     // offset after the last compactible segment
}

// planSeg is a compactible segment and what it held when planned: a swap
// happens only if it still holds exactly that.
type planSeg struct {
	s                                      *segment
	size, batches, nextOffset, baseOrdinal int64
}

// planCompaction picks the compactible segments and where the map starts.
func (l *Log) planCompaction(cleanEnd int64) (*compactPlan, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	if l.failed != nil {
		return nil, l.failed
	}
	hw := l.hw.Load()
	p := &compactPlan{end: l.segs[0].baseOffset}
	for _, s := range l.segs {
		if !s.sealed || s.nextOffset > hw {
			break
		}
		s.acquire() // cannot fail: the log holds a reference to each listed segment
		p.segs = append(p.segs, planSeg{s: s, size: s.size, batches: s.batches, nextOffset: s.nextOffset, baseOrdinal: s.baseOrdinal})
		p.end = s.nextOffset
	}
	// The clean end is a batch boundary of the last pass; if the log was cut
	// below it since, start over.
	p.from = l.segs[0].baseOffset
	if cleanEnd > p.from && cleanEnd <= p.end {
		p.from = cleanEnd
	}
	for _, ps := range p.segs {
		if ps.s.baseOffset <= p.from && p.from < ps.nextOffset {
			p.fromPos = int64(floorByOffset(ps.s.idx, uint32(p.from-ps.s.baseOffset)).pos)
		}
	}
	return p, nil
}

func (p *compactPlan) release() {
	for _, ps := range p.segs {
		ps.s.release()
	}
}

// unchangedLocked (mu held) reports whether ps still holds what it held when
// planned, and the log can take a swap.
func (l *Log) unchangedLocked(ps planSeg) bool {
	s := ps.s
	if l.closed || l.failed != nil || s.removed || !s.sealed ||
		s.size != ps.size || s.batches != ps.batches || s.nextOffset != ps.nextOffset {
		return false
	}
	i := l.findSegment(s.baseOffset)
	return i >= 0 && l.segs[i] == s
}

// buildKeyMap reads the batches of the plan from p.from and notes each key's
// newest offset. It returns the offset up to which the map is complete:
// p.end, or the base offset of the batch where the map filled.
func (l *Log) buildKeyMap(ctx context.Context, p *compactPlan, m *keyMap) (int64, error) {
	var dec batchDecoder
	for _, ps := range p.segs {
		if ps.nextOffset <= p.from {
			continue
		}
		from := int64(0)
		if ps.s.baseOffset <= p.from {
			from = p.fromPos
		}
		r := newSegReader(ps.s, from, ps.size)
		for {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			h, b, err := r.next()
			if err == errSegmentEnd {
				break
			}
			if err != nil {
				if l.segmentChanged(ps) {
					break // removed meanwhile: its keys no longer matter
				}
				return 0, fmt.Errorf("%w: compacting %s: %w", ErrCorruptSegment, ps.s.path, err)
			}
			if h.NextOffset() <= p.from || h.IsControl() || h.IsTransactional() {
				continue
			}
			keys, ok := dec.keys(b)
			if !ok {
				continue // kept as it is by the rewrite; its keys remove nothing
			}
			for _, k := range keys {
				if !m.put(k.key, k.off) {
					// Full. Keys noted from this batch only ever remove
					// records older than themselves, which is right;
					// mapEnd keeps the rest of the pass (tombstone
					// removal) to offsets whose keys are all known.
					return h.BaseOffset, nil
				}
			}
		}
	}
	return p.end, nil
}

// nextExpiryNone is nextExpiry when no tombstone waits for its horizon.
const nextExpiryNone = math.MaxInt64
