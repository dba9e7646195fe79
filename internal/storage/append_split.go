package storage

import (
	"errors"
	"fmt"

	"github.com/ailurus/ailurus/internal/batch"
)

// Write is the first half of Append: it validates and writes the batches and
// returns a commit sequence without waiting for durability. A caller that
// must order its own state with the log (idempotent producer sequences) holds
// its lock across Write only, then calls WaitDurable(seq) outside it, so
// concurrent producers still share one fdatasync.
func (l *Log) Write(term int32, batches ...[]byte) (AppendResult, int64, error) {
	if len(batches) == 0 {
		return AppendResult{}, 0, fmt.Errorf("%w: no batches", ErrInvalidBatch)
	}
	var total int64
	for _, b := range batches {
		h, err := batch.Check(b)
		if err != nil {
			if errors.Is(err, batch.ErrInvalid) {
				return AppendResult{}, 0, fmt.Errorf("%w: %w", ErrInvalidBatch, err)
			}
			return AppendResult{}, 0, fmt.Errorf("%w: %w", ErrCorruptBatch, err)
		}
		total += h.Size()
	}
	return l.write(term, batches, total)
}

// WaitDurable blocks until the bytes of every Write that returned seq or less
// are on disk. With WriteCaching it returns at once.
func (l *Log) WaitDurable(seq int64) error {
	if l.opts.WriteCaching {
		return nil
	}
	return l.waitDurable(seq)
}

// ScanHeaders calls fn with the header of every batch from the one holding
// offset from to the log end, in order, until fn returns false. It reads
// headers only (one small read per batch). Used to rebuild state derived from
// the log, such as idempotent producer sequences, after a restart.
func (l *Log) ScanHeaders(from int64, fn func(batch.Header) bool) error {
	var s Slice
	defer s.Release()
	var hdr [batch.HeaderSize]byte
	for {
		if err := l.Read(from, 1<<62, 8<<20, &s); err != nil {
			return err
		}
		if s.Size == 0 {
			return nil
		}
		for _, c := range s.Chunks {
			for pos := c.Pos; pos < c.Pos+c.Size; {
				if _, err := c.seg.f.ReadAt(hdr[:], pos); err != nil {
					return fmt.Errorf("read %s: %w", c.seg.path, err)
				}
				h, err := batch.Parse(hdr[:])
				if err != nil {
					return fmt.Errorf("%w: %s at %d: %w", ErrCorruptSegment, c.seg.path, pos, err)
				}
				if !fn(h) {
					return nil
				}
				pos += h.Size()
			}
		}
		from = s.NextOffset
		s.Release()
	}
}
