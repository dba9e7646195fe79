package batch

import (
	"encoding/binary"
	"fmt"
)

// Records inside a batch (after the 61-byte header, decompressed if the
// batch is compressed), from the Kafka protocol guide. Varints are zigzag
// encoded, as encoding/binary's Varint; a length of -1 is null.
//
//	length          varint  bytes after this field
//	attributes      int8    unused, kept as read
//	timestampDelta  varlong ms after the batch's baseTimestamp
//	offsetDelta     varint  offset after the batch's baseOffset
//	keyLength       varint
//	key             bytes
//	valueLength     varint  -1: a tombstone
//	value           bytes
//	headerCount     varint
//	headers         {keyLength varint, key, valueLength varint, value}...
//
// Compaction is the main user: it needs the keys, and it copies the records
// it keeps byte for byte (Raw) unless their timestamp delta must change.

// Record is one decoded record. Its slices alias the buffer it was decoded
// from (the batch, or the Decoder's decompression buffer).
type Record struct {
	Attributes     int8
	TimestampDelta int64  // ms after the batch's base timestamp
	OffsetDelta    int32  // the record's offset is the batch's base offset plus this
	Key            []byte // nil when null; empty but not nil when zero-length
	Value          []byte // nil when null (a tombstone)
	// Raw is the whole encoded record, length prefix included.
	Raw []byte

	numHeaders int
	headers    []byte // encoded headers, count excluded
}

// RecordHeader is one record header. Kafka forbids a null key; the value
// may be null.
type RecordHeader struct {
	Key   []byte
	Value []byte // nil when null
}

// NumHeaders is the number of headers of the record.
func (r Record) NumHeaders() int { return r.numHeaders }

// Headers appends the record's headers to dst. They were checked when the
// record was decoded.
func (r Record) Headers(dst []RecordHeader) []RecordHeader {
	b := r.headers
	for i := 0; i < r.numHeaders; i++ {
		var h RecordHeader
		h.Key, b, _ = readBytesField(b)
		h.Value, b, _ = readBytesField(b)
		dst = append(dst, h)
	}
	return dst
}

// RecordIter walks the encoded records of one batch. Use it like
// bufio.Scanner: call Next until it returns false, then Err.
type RecordIter struct {
	data []byte
	left int32 // records the batch header still announces
	err  error
}

// NewRecordIter iterates over the n records encoded in data (a batch's
// records section, decompressed).
func NewRecordIter(data []byte, n int32) RecordIter {
	it := RecordIter{data: data, left: n}
	if n < 0 {
		it.err = fmt.Errorf("%w: negative record count %d", ErrInvalid, n)
	}
	return it
}

// Next decodes the next record. It returns false after the last record or
// at the first malformed one (see Err).
func (it *RecordIter) Next() (Record, bool) {
	if it.err != nil || it.left == 0 {
		return Record{}, false
	}
	r, rest, err := ReadRecord(it.data)
	if err != nil {
		it.err = err
		return Record{}, false
	}
	it.data = rest
	it.left--
	return r, true
}

// Err reports why Next returned false: nil if every announced record was
// decoded and no byte was left over.
func (it *RecordIter) Err() error {
	if it.err != nil {
		return it.err
	}
	if it.left == 0 && len(it.data) > 0 {
		return fmt.Errorf("%w: %d bytes after the last record", ErrCorrupt, len(it.data))
	}
	return nil
}

// ReadRecord decodes the record at the start of b and returns it with the
// bytes after it.
func ReadRecord(b []byte) (Record, []byte, error) {
	length, n := binary.Varint(b)
	if n <= 0 {
		return Record{}, nil, fmt.Errorf("%w: bad record length varint", ErrCorrupt)
	}
	if length < 0 || length > int64(len(b)-n) {
		return Record{}, nil, fmt.Errorf("%w: record length %d with %d bytes left", ErrCorrupt, length, len(b)-n)
	}
	end := n + int(length)
	r := Record{Raw: b[:end:end]}
	body := b[n:end:end]
	if len(body) < 1 {
		return Record{}, nil, fmt.Errorf("%w: empty record", ErrCorrupt)
	}
	r.Attributes = int8(body[0])
	body = body[1:]
	var err error
	if r.TimestampDelta, body, err = readVarint(body, "timestamp delta"); err != nil {
		return Record{}, nil, err
	}
	var od int64
	if od, body, err = readVarint(body, "offset delta"); err != nil {
		return Record{}, nil, err
	}
	if od < 0 || od > 1<<31-1 {
		return Record{}, nil, fmt.Errorf("%w: offset delta %d", ErrCorrupt, od)
	}
	r.OffsetDelta = int32(od)
	if r.Key, body, err = readBytesField(body); err != nil {
		return Record{}, nil, err
	}
	if r.Value, body, err = readBytesField(body); err != nil {
		return Record{}, nil, err
	}
	var nh int64
	if nh, body, err = readVarint(body, "header count"); err != nil {
		return Record{}, nil, err
	}
	if nh < 0 || nh > int64(len(body)) { // a header takes at least two bytes
		return Record{}, nil, fmt.Errorf("%w: header count %d", ErrCorrupt, nh)
	}
	r.numHeaders, r.headers = int(nh), body
	for i := int64(0); i < nh; i++ {
		var k []byte
		if k, body, err = readBytesField(body); err != nil {
			return Record{}, nil, err
		}
		if k == nil {
			return Record{}, nil, fmt.Errorf("%w: null header key", ErrCorrupt)
		}
		if _, body, err = readBytesField(body); err != nil {
			return Record{}, nil, err
		}
	}
	if len(body) != 0 {
		return Record{}, nil, fmt.Errorf("%w: %d bytes after the record's headers", ErrCorrupt, len(body))
	}
	return r, b[end:], nil
}

func readVarint(b []byte, what string) (int64, []byte, error) {
	v, n := binary.Varint(b)
	if n <= 0 {
		return 0, nil, fmt.Errorf("%w: bad %s varint", ErrCorrupt, what)
	}
	return v, b[n:], nil
}

// readBytesField reads a varint length and that many bytes; -1 is null.
func readBytesField(b []byte) ([]byte, []byte, error) {
	l, b, err := readVarint(b, "length")
	if err != nil {
		return nil, nil, err
	}
	switch {
	case l == -1:
		return nil, b, nil
	case l < -1 || l > int64(len(b)):
		return nil, nil, fmt.Errorf("%w: field length %d with %d bytes left", ErrCorrupt, l, len(b))
	}
	return b[:l:l], b[l:], nil
}

// AppendRecord appends r encoded to dst, from its fields: attributes,
// deltas, key, value, and the headers it was decoded with (none for a
// Record built by hand). Raw is ignored. Compaction uses it to re-encode a
// record whose timestamp delta changes.
func AppendRecord(dst []byte, r Record) []byte {
	body := 1 + varintLen(r.TimestampDelta) + varintLen(int64(r.OffsetDelta)) +
		bytesFieldLen(r.Key) + bytesFieldLen(r.Value) + varintLen(int64(r.numHeaders)) + len(r.headers)
	dst = binary.AppendVarint(dst, int64(body))
	dst = append(dst, byte(r.Attributes))
	dst = binary.AppendVarint(dst, r.TimestampDelta)
	dst = binary.AppendVarint(dst, int64(r.OffsetDelta))
	dst = appendBytesField(dst, r.Key)
	dst = appendBytesField(dst, r.Value)
	dst = binary.AppendVarint(dst, int64(r.numHeaders))
	return append(dst, r.headers...)
}

func appendBytesField(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	return append(binary.AppendVarint(dst, int64(len(b))), b...)
}

func bytesFieldLen(b []byte) int {
	if b == nil {
		return varintLen(-1)
	}
	return varintLen(int64(len(b))) + len(b)
}

// varintLen is the size of v as a zigzag varint.
func varintLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

// AppendBatch appends a whole batch to dst: the header fields of h (base
// offset, epoch, attributes, lastOffsetDelta, timestamps, producer fields,
// NumRecords) followed by records, the records section exactly as it is to
// be stored (already compressed if h's attributes say so). Magic is 2; the
// length and CRC are computed.
func AppendBatch(dst []byte, h Header, records []byte) []byte {
	at := len(dst)
	var hdr [HeaderSize]byte
	binary.BigEndian.PutUint64(hdr[offBaseOffset:], uint64(h.BaseOffset))
	binary.BigEndian.PutUint32(hdr[offLength:], uint32(HeaderSize-LengthPrefix+len(records)))
	binary.BigEndian.PutUint32(hdr[offLeaderEpoch:], uint32(h.LeaderEpoch))
	hdr[offMagic] = 2
	binary.BigEndian.PutUint16(hdr[offAttributes:], uint16(h.Attributes))
	binary.BigEndian.PutUint32(hdr[offLastOffsetDelta:], uint32(h.LastOffsetDelta))
	binary.BigEndian.PutUint64(hdr[offBaseTimestamp:], uint64(h.BaseTimestamp))
	binary.BigEndian.PutUint64(hdr[offMaxTimestamp:], uint64(h.MaxTimestamp))
	binary.BigEndian.PutUint64(hdr[offProducerID:], uint64(h.ProducerID))
	binary.BigEndian.PutUint16(hdr[offProducerEpoch:], uint16(h.ProducerEpoch))
	binary.BigEndian.PutUint32(hdr[offBaseSequence:], uint32(h.BaseSequence))
	binary.BigEndian.PutUint32(hdr[offRecordCount:], uint32(h.NumRecords))
	dst = append(dst, hdr[:]...)
	dst = append(dst, records...)
	UpdateCRC(dst[at:])
	return dst
}

// Decoder decodes the records of batches, reusing one decompression buffer.
// The zero value is ready. Not safe for concurrent use.
type Decoder struct {
	buf []byte
}

// Records checks the batch b (as Check does) and returns its header and an
// iterator over its records, decompressed if needed. The records alias b or
// the decoder's buffer, and stay valid until the next call.
func (d *Decoder) Records(b []byte) (Header, RecordIter, error) {
	h, err := Check(b)
	if err != nil {
		return h, RecordIter{}, err
	}
	data := b[HeaderSize:]
	if c := Codec(h.Compression()); c != CodecNone {
		d.buf, err = c.Decompress(d.buf[:0], data)
		if err != nil {
			return h, RecordIter{}, err
		}
		data = d.buf
	}
	return h, NewRecordIter(data, h.NumRecords), nil
}
