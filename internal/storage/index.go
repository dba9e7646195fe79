package storage

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"sort"
)

// The index of a segment is sparse: one entry per IndexIntervalBytes of batch
// data, always one for the first batch. Each entry serves three lookups:
// offset -> position (Kafka fetch), timestamp -> position (ListOffsets by
// time: maxTsBefore is the newest timestamp of every batch before pos), and
// batch ordinal -> position (the Raft log store). Entries are kept in memory
// (24 bytes each: a 1 GiB segment at the default 4 KiB interval needs 6 MiB)
// and appended to <base>-<term>-v1.index as they are made; the file is a
// cache that recovery checks and rebuilds, never a source of truth.
//
// File layout: a 32-byte header {magic "AIX1", baseOrdinal int64, baseOffset
// int64, 12 bytes reserved}, then 24-byte entries {relOffset u32, pos u32,
// relOrdinal u32, maxTsBefore i64, crc32c u32 of the previous 20 bytes}, all
// big endian.

const (
	indexHeaderSize = 32
	indexEntrySize  = 24
	indexMagic      = "AIX1"
	// noTimestamp is below every real timestamp (Kafka uses -1 for "none").
	noTimestamp = int64(-1 << 63)
)

type indexEntry struct {
	relOffset   uint32 // batch base offset - segment base offset
	pos         uint32 // byte position of the batch in the segment file
	relOrdinal  uint32 // batch ordinal - segment base ordinal
	maxTsBefore int64  // newest MaxTimestamp of the batches before pos; noTimestamp if none
}

var errIndexCorrupt = errors.New("index file corrupt")

func encodeIndexHeader(baseOrdinal, baseOffset int64) []byte {
	b := make([]byte, indexHeaderSize)
	copy(b, indexMagic)
	binary.BigEndian.PutUint64(b[4:], uint64(baseOrdinal))
	binary.BigEndian.PutUint64(b[12:], uint64(baseOffset))
	return b
}

func appendIndexEntry(dst []byte, e indexEntry) []byte {
	var b [indexEntrySize]byte
	binary.BigEndian.PutUint32(b[0:], e.relOffset)
	binary.BigEndian.PutUint32(b[4:], e.pos)
	binary.BigEndian.PutUint32(b[8:], e.relOrdinal)
	binary.BigEndian.PutUint64(b[12:], uint64(e.maxTsBefore))
	binary.BigEndian.PutUint32(b[20:], crc32.Checksum(b[:20], castagnoli))
	return append(dst, b[:]...)
}

// decodeIndex parses an index file's bytes. It returns the entries up to the
// first one that is torn, fails its checksum, or does not increase strictly;
// the caller checks the rest against the segment.
func decodeIndex(b []byte, baseOffset int64) (baseOrdinal int64, entries []indexEntry, err error) {
	if len(b) < indexHeaderSize || string(b[:4]) != indexMagic {
		return 0, nil, errIndexCorrupt
	}
	baseOrdinal = int64(binary.BigEndian.Uint64(b[4:]))
	if int64(binary.BigEndian.Uint64(b[12:])) != baseOffset || baseOrdinal < 0 {
		return 0, nil, errIndexCorrupt
	}
	b = b[indexHeaderSize:]
	entries = make([]indexEntry, 0, len(b)/indexEntrySize)
	for len(b) >= indexEntrySize {
		if crc32.Checksum(b[:20], castagnoli) != binary.BigEndian.Uint32(b[20:]) {
			break
		}
		e := indexEntry{
			relOffset:   binary.BigEndian.Uint32(b[0:]),
			pos:         binary.BigEndian.Uint32(b[4:]),
			relOrdinal:  binary.BigEndian.Uint32(b[8:]),
			maxTsBefore: int64(binary.BigEndian.Uint64(b[12:])),
		}
		if n := len(entries); n > 0 {
			p := entries[n-1]
			if e.relOffset <= p.relOffset || e.pos <= p.pos || e.relOrdinal <= p.relOrdinal || e.maxTsBefore < p.maxTsBefore {
				break
			}
		} else if e.relOffset != 0 || e.pos != 0 || e.relOrdinal != 0 {
			break
		}
		entries = append(entries, e)
		b = b[indexEntrySize:]
	}
	return baseOrdinal, entries, nil
}

// floorByOffset is the last entry whose batch starts at or before rel: the
// batch holding offset base+rel starts at or after its position.
func floorByOffset(es []indexEntry, rel uint32) indexEntry {
	i := sort.Search(len(es), func(i int) bool { return es[i].relOffset > rel })
	if i == 0 {
		return indexEntry{maxTsBefore: noTimestamp}
	}
	return es[i-1]
}

// floorByOrdinal is the last entry at or before ordinal rel.
func floorByOrdinal(es []indexEntry, rel uint32) indexEntry {
	i := sort.Search(len(es), func(i int) bool { return es[i].relOrdinal > rel })
	if i == 0 {
		return indexEntry{maxTsBefore: noTimestamp}
	}
	return es[i-1]
}

// floorByTime is the last entry before which every batch is older than ts: the
// first batch with MaxTimestamp >= ts starts at or after its position.
func floorByTime(es []indexEntry, ts int64) indexEntry {
	i := sort.Search(len(es), func(i int) bool { return es[i].maxTsBefore >= ts })
	if i == 0 {
		return indexEntry{maxTsBefore: noTimestamp}
	}
	return es[i-1]
}
