package bench

import (
	"encoding/binary"
	"sync"
)

// HeaderSize is the sequence header at the start of every record value:
// producer index (uint32), sequence number (uint64) and creation time in
// Unix nanoseconds (int64), big-endian. The rest of the value is padding.
// The creation time is the intended send time in open loop, so that a
// stalled broker cannot hide latency by slowing the producers down.
const HeaderSize = 4 + 8 + 8

// putHeader writes the header into v[:HeaderSize].
func putHeader(v []byte, producer uint32, seq uint64, createdNs int64) {
	binary.BigEndian.PutUint32(v[0:4], producer)
	binary.BigEndian.PutUint64(v[4:12], seq)
	binary.BigEndian.PutUint64(v[12:20], uint64(createdNs))
}

// parseHeader reads a header; ok is false when v is too short to hold one.
func parseHeader(v []byte) (producer uint32, seq uint64, createdNs int64, ok bool) {
	if len(v) < HeaderSize {
		return 0, 0, 0, false
	}
	return binary.BigEndian.Uint32(v[0:4]), binary.BigEndian.Uint64(v[4:12]), int64(binary.BigEndian.Uint64(v[12:20])), true
}

// seenSet remembers which (producer, sequence) pairs were read, one bitmap
// per producer, to count duplicates. Safe for concurrent use.
type seenSet struct {
	mu   sync.Mutex
	bits map[uint32][]uint64
	n    int64 // distinct pairs seen
}

func newSeenSet() *seenSet { return &seenSet{bits: map[uint32][]uint64{}} }

// add marks (producer, seq) and says whether it had been seen already.
func (s *seenSet) add(producer uint32, seq uint64) (dup bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bits[producer]
	w := seq / 64
	if w >= uint64(len(b)) {
		nb := make([]uint64, max(w+1, uint64(2*len(b))))
		copy(nb, b)
		b = nb
		s.bits[producer] = b
	}
	mask := uint64(1) << (seq % 64)
	if b[w]&mask != 0 {
		return true
	}
	b[w] |= mask
	s.n++
	return false
}

// distinct is the number of different pairs seen.
func (s *seenSet) distinct() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}
