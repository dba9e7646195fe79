package storage

import (
	"hash/maphash"
	"math/bits"
)

// keyMap maps record keys to the offset of the newest record seen with that
// key, in bounded memory, for one compaction pass (Kafka's SkimpyOffsetMap,
// Redpanda's key_offset_map).
//
// Keys are not stored, only a 128-bit hash: two maphash sums with
// independent random seeds, drawn afresh for every pass. A collision would
// make compaction drop the older record of one key because a different key
// was written later; with 128 bits and n keys its probability is about
// n²/2¹²⁹ (below 1e-20 for a billion keys), and fresh seeds mean a
// collision can neither be engineered by a producer nor repeat in the next
// pass. Kafka makes the same trade with a 16-byte MD5.
//
// The table is open addressing with linear probing over 24-byte slots. It
// starts small and doubles while under its cap, so a small log pays little;
// it is full at 3/4 of the capped size. Memory is at most maxSlots*24
// bytes, plus the previous table (half that) while growing.
type keyMap struct {
	seed0, seed1 maphash.Seed
	slots        []keySlot
	n            int // occupied slots
	maxSlots     int
}

type keySlot struct {
	h0, h1 uint64
	next   int64 // offset+1 of the newest record with this hash; 0: empty
}

const (
	keySlotSize     = 24
	keyMapInitSlots = 1 << 10
)

// newKeyMap makes a map that uses at most about memBytes.
func newKeyMap(memBytes int64) *keyMap {
	maxSlots := int(memBytes / keySlotSize)
	if maxSlots < 16 {
		maxSlots = 16
	}
	m := &keyMap{seed0: maphash.MakeSeed(), seed1: maphash.MakeSeed(), maxSlots: maxSlots}
	m.slots = make([]keySlot, min(keyMapInitSlots, maxSlots))
	return m
}

// room is how many more distinct keys fit.
func (m *keyMap) room() int { return m.maxSlots*3/4 - m.n }

func (m *keyMap) hash(key []byte) (uint64, uint64) {
	return maphash.Bytes(m.seed0, key), maphash.Bytes(m.seed1, key)
}

// put records that key has a record at offset off, keeping the newest. It
// returns false, changing nothing, for a new key when the map is full;
// callers check room beforehand so that it does not happen mid-batch.
func (m *keyMap) put(key []byte, off int64) bool {
	h0, h1 := m.hash(key)
	if m.room() <= 0 && m.lookup(h0, h1) == nil {
		return false
	}
	if (m.n+1)*4 > len(m.slots)*3 && len(m.slots) < m.maxSlots {
		m.grow()
	}
	m.insert(h0, h1, off+1)
	return true
}

func (m *keyMap) insert(h0, h1 uint64, next int64) {
	i := m.home(h0)
	for {
		s := &m.slots[i]
		switch {
		case s.next == 0:
			*s = keySlot{h0, h1, next}
			m.n++
			return
		case s.h0 == h0 && s.h1 == h1:
			if next > s.next {
				s.next = next
			}
			return
		}
		if i++; i == len(m.slots) {
			i = 0
		}
	}
}

// newest is the offset of the newest record seen with key.
func (m *keyMap) newest(key []byte) (int64, bool) {
	if s := m.lookup(m.hash(key)); s != nil {
		return s.next - 1, true
	}
	return 0, false
}

func (m *keyMap) lookup(h0, h1 uint64) *keySlot {
	i := m.home(h0)
	for {
		s := &m.slots[i]
		switch {
		case s.next == 0:
			return nil
		case s.h0 == h0 && s.h1 == h1:
			return s
		}
		if i++; i == len(m.slots) {
			i = 0
		}
	}
}

// home maps h onto [0, len(slots)) without a power-of-two size.
func (m *keyMap) home(h uint64) int {
	hi, _ := bits.Mul64(h, uint64(len(m.slots)))
	return int(hi)
}

func (m *keyMap) grow() {
	old := m.slots
	m.slots = make([]keySlot, min(2*len(old), m.maxSlots))
	m.n = 0
	for _, s := range old {
		if s.next != 0 {
			m.insert(s.h0, s.h1, s.next)
		}
	}
}
