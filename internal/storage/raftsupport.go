package storage

import (
	"fmt"

	"github.com/ailurus/ailurus/internal/batch"
)

// ReadOrdinals appends to dst the batch with ordinal ord followed by the
// batches after it in the same segment, whole, as long as the bytes appended
// stay within maxBytes; the first batch is appended whatever its size. It
// returns dst extended and the number of batches appended (at least one on
// success). The Raft log store (internal/raftlog) uses it as a read-ahead:
// one pread serves many sequential GetLog calls.
//
// An ordinal that is not in the log gives ErrOffsetOutOfRange. Safe for
// concurrent use; the bytes read are those of whole batches that were in the
// segment when the call started.
func (l *Log) ReadOrdinals(ord, maxBytes int64, dst []byte) ([]byte, int, error) {
	out, n := dst, 0
	pick := func(s *segment) (bool, indexEntry) {
		if ord < s.baseOrdinal || ord >= s.baseOrdinal+s.batches {
			return false, indexEntry{}
		}
		return true, floorByOrdinal(s.idx, uint32(ord-s.baseOrdinal))
	}
	match := func(_ batch.Header, o int64) bool { return o == ord }
	read := func(s *segment, pos int64, h batch.Header) error {
		l.mu.Lock()
		upto := s.size
		l.mu.Unlock()
		want := h.Size()
		if rest := upto - pos; rest > want && maxBytes > want {
			want = min(rest, maxBytes)
		}
		k := len(dst)
		buf := append(dst, make([]byte, want)...)
		if _, err := s.f.ReadAt(buf[k:], pos); err != nil {
			return err
		}
		// Keep whole batches only: the read may end inside one.
		end := k
		for end+batch.HeaderSize <= len(buf) {
			bh, err := batch.Parse(buf[end:])
			if err != nil {
				return fmt.Errorf("%w: %s at %d: %w", ErrCorruptSegment, s.path, pos+int64(end-k), err)
			}
			if int64(end)+bh.Size() > int64(len(buf)) {
				break
			}
			end += int(bh.Size())
			n++
		}
		out = buf[:end]
		return nil
	}
	_, ok, err := l.find(pick, match, read)
	if err != nil {
		return dst, 0, err
	}
	if !ok || n == 0 {
		return dst, 0, fmt.Errorf("%w: batch ordinal %d", ErrOffsetOutOfRange, ord)
	}
	return out, n, nil
}
