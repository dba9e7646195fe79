package raftlog

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/batch"
)

// Side file layout (big endian), README.md "Side file":
//
//	header  24 bytes: magic "ARS1", firstIndex u64, firstOrdinal i64,
//	        crc32c u32 of the 20 bytes before it
//	record  length u32 (bytes of body), crc32c u32 (of body), body:
//	        index u64, term u64, type u8, appendedAt i64 (unix ns, 0 = unset),
//	        dataLen u32, data, extLen u32, extensions
//
// The header is only ever written by an atomic rewrite of the whole file, so
// it is never torn. Records are appended; a torn or checksum-failing record
// ends the file (recovery cuts it).
const (
	sideFileName   = "raft.side"
	sideMagic      = "ARS1"
	sideHeaderSize = 4 + 8 + 8 + 4
	recPrefixSize  = 8
	recFixedSize   = 8 + 8 + 1 + 8 + 4 + 4
	maxRecordBody  = batch.MaxSize
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sideHeader anchors the mapping (README.md "Mapping"): the entry at Raft
// index firstIndex, if it is a batch, has ordinal firstOrdinal, and the batch
// entries after it take the following ordinals in index order.
type sideHeader struct {
	firstIndex   uint64 // 0: never anchored (no entry stored yet)
	firstOrdinal int64
}

// sideEntry is a Raft entry that is not a Kafka batch. Its byte slices are
// owned by the store and never modified; GetLog hands out copies.
type sideEntry struct {
	index, term uint64
	typ         raft.LogType
	appendedAt  int64 // unix ns; 0 when unset
	data, ext   []byte
}

func newSideEntry(l *raft.Log) sideEntry {
	e := sideEntry{index: l.Index, term: l.Term, typ: l.Type,
		data: clone(l.Data), ext: clone(l.Extensions)}
	if !l.AppendedAt.IsZero() {
		e.appendedAt = l.AppendedAt.UnixNano()
	}
	return e
}

// fill copies e into out.
func (e sideEntry) fill(out *raft.Log) {
	*out = raft.Log{Index: e.index, Term: e.term, Type: e.typ, Data: clone(e.data), Extensions: clone(e.ext)}
	if e.appendedAt != 0 {
		out.AppendedAt = time.Unix(0, e.appendedAt)
	}
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

func encodeSideHeader(h sideHeader) []byte {
	b := make([]byte, sideHeaderSize)
	copy(b, sideMagic)
	binary.BigEndian.PutUint64(b[4:], h.firstIndex)
	binary.BigEndian.PutUint64(b[12:], uint64(h.firstOrdinal))
	binary.BigEndian.PutUint32(b[20:], crc32.Checksum(b[:20], castagnoli))
	return b
}

func decodeSideHeader(b []byte) (sideHeader, error) {
	if len(b) < sideHeaderSize || string(b[:4]) != sideMagic ||
		crc32.Checksum(b[:20], castagnoli) != binary.BigEndian.Uint32(b[20:]) {
		return sideHeader{}, fmt.Errorf("%w: bad header", ErrCorrupt)
	}
	h := sideHeader{
		firstIndex:   binary.BigEndian.Uint64(b[4:]),
		firstOrdinal: int64(binary.BigEndian.Uint64(b[12:])),
	}
	if h.firstOrdinal < 0 {
		return sideHeader{}, fmt.Errorf("%w: negative first ordinal %d", ErrCorrupt, h.firstOrdinal)
	}
	return h, nil
}

func appendSideRecord(dst []byte, e sideEntry) []byte {
	n := recFixedSize + len(e.data) + len(e.ext)
	start := len(dst)
	dst = append(dst, make([]byte, recPrefixSize+n)...)
	b := dst[start+recPrefixSize:]
	binary.BigEndian.PutUint64(b[0:], e.index)
	binary.BigEndian.PutUint64(b[8:], e.term)
	b[16] = byte(e.typ)
	binary.BigEndian.PutUint64(b[17:], uint64(e.appendedAt))
	binary.BigEndian.PutUint32(b[25:], uint32(len(e.data)))
	copy(b[29:], e.data)
	p := 29 + len(e.data)
	binary.BigEndian.PutUint32(b[p:], uint32(len(e.ext)))
	copy(b[p+4:], e.ext)
	binary.BigEndian.PutUint32(dst[start:], uint32(n))
	binary.BigEndian.PutUint32(dst[start+4:], crc32.Checksum(b, castagnoli))
	return dst
}

// decodeSideRecords parses the records after the header. It stops at the
// first torn or checksum-failing record and returns the entries before it and
// the length of the valid prefix of b. Records that are intact but out of
// index order cannot come from a torn write: that is ErrCorrupt.
func decodeSideRecords(b []byte) ([]sideEntry, int, error) {
	var out []sideEntry
	pos := 0
	for len(b)-pos >= recPrefixSize {
		n := int(binary.BigEndian.Uint32(b[pos:]))
		if n < recFixedSize || n > maxRecordBody || len(b)-pos-recPrefixSize < n {
			break
		}
		body := b[pos+recPrefixSize : pos+recPrefixSize+n]
		if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(b[pos+4:]) {
			break
		}
		e, ok := decodeSideBody(body)
		if !ok {
			return nil, 0, fmt.Errorf("%w: record at %d has inconsistent lengths", ErrCorrupt, sideHeaderSize+pos)
		}
		if k := len(out); k > 0 && e.index <= out[k-1].index {
			return nil, 0, fmt.Errorf("%w: record index %d after %d", ErrCorrupt, e.index, out[k-1].index)
		}
		out = append(out, e)
		pos += recPrefixSize + n
	}
	return out, pos, nil
}

func decodeSideBody(b []byte) (sideEntry, bool) {
	e := sideEntry{
		index:      binary.BigEndian.Uint64(b[0:]),
		term:       binary.BigEndian.Uint64(b[8:]),
		typ:        raft.LogType(b[16]),
		appendedAt: int64(binary.BigEndian.Uint64(b[17:])),
	}
	dl := int(binary.BigEndian.Uint32(b[25:]))
	if 29+dl+4 > len(b) {
		return e, false
	}
	e.data = clone(b[29 : 29+dl])
	p := 29 + dl
	el := int(binary.BigEndian.Uint32(b[p:]))
	if p+4+el != len(b) {
		return e, false
	}
	e.ext = clone(b[p+4:])
	return e, true
}
