package storage

import (
	"fmt"
	"io"

	"github.com/ailurus/ailurus/internal/batch"
)

// Chunk is a run of whole batches in one segment file: bytes [Pos, Pos+Size)
// of File. A server sends it with sendfile (File implements OSFile in
// production) or reads it with ReadAt. The file stays open until the Slice
// that holds the chunk is released, even if the segment is removed meanwhile.
type Chunk struct {
	seg        *segment
	Pos, Size  int64
	BaseOffset int64 // base offset of the first batch
	NextOffset int64 // offset after the last batch
}

// File is the segment file the chunk lies in.
func (c Chunk) File() File { return c.seg.f }

// Slice is the result of a read. Reuse one Slice across reads to avoid
// allocating; Release it when its bytes have been sent.
type Slice struct {
	Chunks     []Chunk
	Size       int64 // total bytes
	NextOffset int64 // offset after the last batch returned; the next fetch starts here
}

// Release lets the segments go. The Slice may be reused afterwards.
func (s *Slice) Release() {
	for i := range s.Chunks {
		s.Chunks[i].seg.release()
		s.Chunks[i] = Chunk{}
	}
	s.Chunks = s.Chunks[:0]
	s.Size = 0
}

// AppendTo appends the slice's bytes to dst (for callers that cannot use
// sendfile, and for tests).
func (s *Slice) AppendTo(dst []byte) ([]byte, error) {
	for _, c := range s.Chunks {
		n := len(dst)
		dst = append(dst, make([]byte, c.Size)...)
		if _, err := c.seg.f.ReadAt(dst[n:], c.Pos); err != nil && err != io.EOF {
			return dst[:n], fmt.Errorf("read %s: %w", c.seg.path, err)
		}
	}
	return dst, nil
}

// Read fills out with whole batches starting at the batch that holds offset,
// stopping before any batch whose base offset is >= maxOffset (the high
// watermark or last stable offset the caller may serve), and once maxBytes
// are gathered. Like Kafka (KIP-74) the first batch is returned whole even if
// it is larger than maxBytes, so a consumer always progresses. An offset
// equal to the log end, or at/after maxOffset, gives an empty slice; one
// below the log start or past the end gives ErrOffsetOutOfRange.
func (l *Log) Read(offset, maxOffset, maxBytes int64, out *Slice) error {
	out.Release()
	out.NextOffset = offset
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	end := l.active().nextOffset
	if offset < l.startOffset || offset > end {
		start := l.startOffset
		l.mu.Unlock()
		return fmt.Errorf("%w: %d not in [%d, %d]", ErrOffsetOutOfRange, offset, start, end)
	}
	if offset >= end || offset >= maxOffset {
		l.mu.Unlock()
		return nil
	}
	segs := l.segs
	i := l.findSegment(offset)
	if i < 0 {
		i = 0
	}
	// Positions to start from and read up to, fixed under the lock: the
	// active segment may grow meanwhile, the rest are sealed.
	type span struct {
		s          *segment
		from, upto int64
	}
	var spans [4]span
	ns := 0
	for j := i; j < len(segs) && ns < len(spans); j++ {
		s := segs[j]
		// Referenced under mu: compaction may swap the segment out as soon
		// as mu is released, and the old file must stay readable.
		s.acquire() // cannot fail: the log holds a reference to each listed segment
		from := int64(0)
		if j == i {
			from = int64(floorByOffset(s.idx, uint32(offset-s.baseOffset)).pos)
		}
		spans[ns] = span{s, from, s.size}
		ns++
	}
	l.mu.Unlock()

	k := 0
	defer func() { // spans after the one a return leaves from
		for j := k + 1; j < ns; j++ {
			spans[j].s.release()
		}
	}()
	var hdr [batch.HeaderSize]byte
	for ; k < ns; k++ {
		sp := spans[k]
		c := Chunk{seg: sp.s, Pos: -1}
		pos := sp.from
		for pos+batch.HeaderSize <= sp.upto {
			if _, err := sp.s.f.ReadAt(hdr[:], pos); err != nil {
				sp.s.release()
				return fmt.Errorf("read %s: %w", sp.s.path, err)
			}
			h, err := batch.Parse(hdr[:])
			if err != nil {
				sp.s.release()
				return fmt.Errorf("%w: %s at %d: %w", ErrCorruptSegment, sp.s.path, pos, err)
			}
			if h.LastOffset() < offset { // before the wanted offset
				pos += h.Size()
				continue
			}
			if h.BaseOffset >= maxOffset || (out.Size+c.Size > 0 && out.Size+c.Size+h.Size() > maxBytes) {
				l.finishChunk(out, c)
				return nil
			}
			if c.Pos < 0 {
				c.Pos, c.BaseOffset = pos, h.BaseOffset
			}
			c.Size += h.Size()
			c.NextOffset = h.NextOffset()
			pos += h.Size()
		}
		l.finishChunk(out, c)
	}
	return nil
}

func (l *Log) finishChunk(out *Slice, c Chunk) {
	if c.Size == 0 {
		c.seg.release()
		return
	}
	out.Chunks = append(out.Chunks, c)
	out.Size += c.Size
	out.NextOffset = c.NextOffset
}

// BatchPos locates one batch.
type BatchPos struct {
	BaseOffset   int64
	LastOffset   int64
	MaxTimestamp int64
	Ordinal      int64
	Size         int64
}

// FindTime returns the first batch whose MaxTimestamp is >= ts (ListOffsets
// by timestamp); ok is false if every batch is older.
func (l *Log) FindTime(ts int64) (BatchPos, bool, error) {
	start := l.StartOffset()
	return l.find(func(s *segment) (bool, indexEntry) {
		if s.maxTs < ts || s.nextOffset <= start {
			return false, indexEntry{}
		}
		return true, floorByTime(s.idx, ts)
	}, func(h batch.Header, _ int64) bool { return h.MaxTimestamp >= ts && h.LastOffset() >= start })
}

// FindMaxTimestamp returns the batch holding the newest timestamp
// (ListOffsets MAX_TIMESTAMP); the first such batch if several tie.
func (l *Log) FindMaxTimestamp() (BatchPos, bool, error) {
	l.mu.Lock()
	max := noTimestamp
	for _, s := range l.segs {
		if s.maxTs > max {
			max = s.maxTs
		}
	}
	l.mu.Unlock()
	if max == noTimestamp {
		return BatchPos{}, false, nil
	}
	return l.FindTime(max)
}

// FindOrdinal locates the batch with the given ordinal (the Raft log store's
// lookup).
func (l *Log) FindOrdinal(ord int64) (BatchPos, bool, error) {
	return l.find(func(s *segment) (bool, indexEntry) {
		if ord < s.baseOrdinal || ord >= s.baseOrdinal+s.batches {
			return false, indexEntry{}
		}
		return true, floorByOrdinal(s.idx, uint32(ord-s.baseOrdinal))
	}, func(_ batch.Header, o int64) bool { return o == ord })
}

// ReadOrdinal appends the batch with ordinal ord to dst.
func (l *Log) ReadOrdinal(ord int64, dst []byte) ([]byte, BatchPos, error) {
	var out []byte
	p, ok, err := l.find(func(s *segment) (bool, indexEntry) {
		if ord < s.baseOrdinal || ord >= s.baseOrdinal+s.batches {
			return false, indexEntry{}
		}
		return true, floorByOrdinal(s.idx, uint32(ord-s.baseOrdinal))
	}, func(_ batch.Header, o int64) bool { return o == ord }, func(s *segment, pos int64, h batch.Header) error {
		n := len(dst)
		out = append(dst, make([]byte, h.Size())...)
		_, err := s.f.ReadAt(out[n:], pos)
		return err
	})
	if err != nil {
		return dst, p, err
	}
	if !ok {
		return dst, p, fmt.Errorf("%w: batch ordinal %d", ErrOffsetOutOfRange, ord)
	}
	return out, p, nil
}

// find picks the first segment for which pick says yes, scans from the index
// entry it gives to the first batch that match accepts, and calls each of
// with it (at most one).
func (l *Log) find(pick func(*segment) (bool, indexEntry), match func(batch.Header, int64) bool,
	with ...func(*segment, int64, batch.Header) error) (BatchPos, bool, error) {
	l.mu.Lock()
	var s *segment
	var from indexEntry
	var upto int64
	for _, c := range l.segs {
		if ok, e := pick(c); ok {
			s, from, upto = c, e, c.size
			break
		}
	}
	if s == nil || !s.acquire() {
		l.mu.Unlock()
		return BatchPos{}, false, nil
	}
	l.mu.Unlock()
	defer s.release()
	var hdr [batch.HeaderSize]byte
	pos, ord := int64(from.pos), s.baseOrdinal+int64(from.relOrdinal)
	for pos+batch.HeaderSize <= upto {
		if _, err := s.f.ReadAt(hdr[:], pos); err != nil {
			return BatchPos{}, false, fmt.Errorf("read %s: %w", s.path, err)
		}
		h, err := batch.Parse(hdr[:])
		if err != nil {
			return BatchPos{}, false, fmt.Errorf("%w: %s at %d: %w", ErrCorruptSegment, s.path, pos, err)
		}
		if match(h, ord) {
			for _, f := range with {
				if err := f(s, pos, h); err != nil {
					return BatchPos{}, false, fmt.Errorf("read %s: %w", s.path, err)
				}
			}
			return BatchPos{BaseOffset: h.BaseOffset, LastOffset: h.LastOffset(), MaxTimestamp: h.MaxTimestamp, Ordinal: ord, Size: h.Size()}, true, nil
		}
		pos += h.Size()
		ord++
	}
	return BatchPos{}, false, nil
}
