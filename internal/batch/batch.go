// Package batch reads and checks Kafka v2 record batches (magic 2) in place,
// without decoding records or allocating. It is the one place that knows the
// byte layout of a batch header; the partition log, the Kafka handlers and the
// tools all go through it. For the few that need records (compaction),
// records.go decodes and re-encodes them and compress.go handles the codecs.
//
// Layout (big endian), from KIP-98 / the Kafka protocol guide:
//
//	0  baseOffset            int64  set by the leader, not covered by the CRC
//	8  batchLength           int32  bytes after this field
//	12 partitionLeaderEpoch  int32  set by the leader, not covered by the CRC
//	16 magic                 int8   must be 2
//	17 crc                   uint32 CRC-32C of bytes [21, end)
//	21 attributes            int16
//	23 lastOffsetDelta       int32
//	27 baseTimestamp         int64
//	35 maxTimestamp          int64
//	43 producerId            int64
//	51 producerEpoch         int16
//	53 baseSequence          int32
//	57 recordCount           int32
//	61 records...
package batch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// HeaderSize is the size of a v2 batch header, records excluded.
const HeaderSize = 61

// LengthPrefix is the number of bytes before batchLength counts: baseOffset and
// batchLength itself. A batch occupies LengthPrefix+batchLength bytes.
const LengthPrefix = 12

// MaxSize bounds one batch. Kafka's message.max.bytes is far lower; this only
// guards recovery and decoding against absurd lengths read from a torn file.
const MaxSize = 1 << 30

const (
	offBaseOffset      = 0
	offLength          = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21
	offLastOffsetDelta = 23
	offBaseTimestamp   = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offRecordCount     = 57
)

// Attribute bits.
const (
	AttrCompressionMask = 0x07
	AttrTimestampLog    = 0x08 // LogAppendTime
	AttrTransactional   = 0x10
	AttrControl         = 0x20
	AttrDeleteHorizon   = 0x40 // KIP-534: baseTimestamp is the delete horizon
)

// Errors. ErrCorrupt maps to Kafka's CORRUPT_MESSAGE (2): the bytes are not
// what the sender computed. ErrInvalid maps to INVALID_RECORD (87): the bytes
// are intact but the batch breaks a rule (wrong magic, impossible counts).
var (
	ErrCorrupt = errors.New("corrupt record batch")
	ErrInvalid = errors.New("invalid record batch")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header is a decoded batch header. It is a value: decoding it copies 61 bytes
// of fields and allocates nothing.
type Header struct {
	BaseOffset      int64
	Length          int32 // batchLength: bytes after the length field
	LeaderEpoch     int32
	Magic           int8
	CRC             uint32
	Attributes      int16
	LastOffsetDelta int32
	BaseTimestamp   int64 // ms; the delete horizon when AttrDeleteHorizon is set
	MaxTimestamp    int64 // ms
	ProducerID      int64 // -1 when not idempotent
	ProducerEpoch   int16
	BaseSequence    int32 // -1 when not idempotent
	NumRecords      int32
}

// Size is the number of bytes the whole batch occupies.
func (h Header) Size() int64 { return LengthPrefix + int64(h.Length) }

// LastOffset is the offset of the last record the batch covers.
func (h Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// NextOffset is the offset after the batch.
func (h Header) NextOffset() int64 { return h.LastOffset() + 1 }

// Compression is the codec id: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
func (h Header) Compression() int8 { return int8(h.Attributes & AttrCompressionMask) }

// IsControl reports a transaction marker batch.
func (h Header) IsControl() bool { return h.Attributes&AttrControl != 0 }

// IsTransactional reports a batch written inside a transaction.
func (h Header) IsTransactional() bool { return h.Attributes&AttrTransactional != 0 }

// Parse decodes the header at the start of b. It checks only that b holds a
// header and that the length field is plausible; use Check for the full
// validation of an incoming batch.
func Parse(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("%w: %d bytes is shorter than a batch header", ErrCorrupt, len(b))
	}
	h := Header{
		BaseOffset:      int64(binary.BigEndian.Uint64(b[offBaseOffset:])),
		Length:          int32(binary.BigEndian.Uint32(b[offLength:])),
		LeaderEpoch:     int32(binary.BigEndian.Uint32(b[offLeaderEpoch:])),
		Magic:           int8(b[offMagic]),
		CRC:             binary.BigEndian.Uint32(b[offCRC:]),
		Attributes:      int16(binary.BigEndian.Uint16(b[offAttributes:])),
		LastOffsetDelta: int32(binary.BigEndian.Uint32(b[offLastOffsetDelta:])),
		BaseTimestamp:   int64(binary.BigEndian.Uint64(b[offBaseTimestamp:])),
		MaxTimestamp:    int64(binary.BigEndian.Uint64(b[offMaxTimestamp:])),
		ProducerID:      int64(binary.BigEndian.Uint64(b[offProducerID:])),
		ProducerEpoch:   int16(binary.BigEndian.Uint16(b[offProducerEpoch:])),
		BaseSequence:    int32(binary.BigEndian.Uint32(b[offBaseSequence:])),
		NumRecords:      int32(binary.BigEndian.Uint32(b[offRecordCount:])),
	}
	if h.Length < HeaderSize-LengthPrefix || h.Length > MaxSize {
		return h, fmt.Errorf("%w: batch length %d out of range", ErrCorrupt, h.Length)
	}
	return h, nil
}

// Check validates one complete batch in b (exactly one: len(b) must equal the
// batch size). It verifies magic, lengths, counts and the CRC-32C, and returns
// the header. It never modifies b.
func Check(b []byte) (Header, error) {
	h, err := Parse(b)
	if err != nil {
		return h, err
	}
	if int64(len(b)) != h.Size() {
		return h, fmt.Errorf("%w: batch length field says %d bytes, got %d", ErrCorrupt, h.Size(), len(b))
	}
	if h.Magic != 2 {
		return h, fmt.Errorf("%w: magic %d, only magic 2 is supported", ErrInvalid, h.Magic)
	}
	if crc := crc32.Checksum(b[offAttributes:], castagnoli); crc != h.CRC {
		return h, fmt.Errorf("%w: crc %08x, header says %08x", ErrCorrupt, crc, h.CRC)
	}
	if h.LastOffsetDelta < 0 || h.NumRecords < 0 {
		return h, fmt.Errorf("%w: negative lastOffsetDelta %d or record count %d", ErrInvalid, h.LastOffsetDelta, h.NumRecords)
	}
	if h.Compression() > 4 {
		return h, fmt.Errorf("%w: unknown compression codec %d", ErrInvalid, h.Compression())
	}
	return h, nil
}

// CheckCRC verifies only the CRC of the batch whose header is h, at the start
// of b. Recovery uses it on bytes read back from disk.
func CheckCRC(b []byte, h Header) bool {
	if int64(len(b)) < h.Size() || len(b) < HeaderSize {
		return false
	}
	return crc32.Checksum(b[offAttributes:h.Size()], castagnoli) == h.CRC
}

// SetBaseOffset writes the base offset into the header in b. The CRC does not
// cover it, so the batch stays valid.
func SetBaseOffset(b []byte, off int64) { binary.BigEndian.PutUint64(b[offBaseOffset:], uint64(off)) }

// SetLeaderEpoch writes the partition leader epoch (the Raft term) into b.
func SetLeaderEpoch(b []byte, epoch int32) {
	binary.BigEndian.PutUint32(b[offLeaderEpoch:], uint32(epoch))
}

// UpdateCRC recomputes the CRC after a rewrite of the covered bytes (used by
// compaction and by tools that build batches).
func UpdateCRC(b []byte) {
	binary.BigEndian.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], castagnoli))
}
