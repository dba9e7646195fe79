package batchtest

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/klauspost/compress/s2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Compression picks how BuildCompressed compresses the records: as
// franz-go's producer does (its kgo compressor), or, for SnappyXerial, in
// the xerial framing the Java producer writes. None of it goes through
// package batch, so tests of batch's codecs check against other code.
type Compression int

const (
	Gzip Compression = iota
	Snappy
	SnappyXerial
	Lz4
	Zstd
)

// Compressions lists every Compression, for table tests.
var Compressions = []Compression{Gzip, Snappy, SnappyXerial, Lz4, Zstd}

func (c Compression) String() string {
	return [...]string{"gzip", "snappy", "snappy-xerial", "lz4", "zstd"}[c]
}

// Codec is the batch attribute's codec id.
func (c Compression) Codec() int8 {
	return [...]int8{1, 2, 2, 3, 4}[c]
}

// BuildCompressed is Build with the records compressed.
func BuildCompressed(opt Options, c Compression, recs ...Record) []byte {
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(Build(opt, recs...)); err != nil {
		panic(err)
	}
	rb.Records = Compress(c, rb.Records)
	rb.Attributes = rb.Attributes&^7 | int16(c.Codec())
	out := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	putCRC(out)
	return out
}

// Compress compresses raw records as c says.
func Compress(c Compression, raw []byte) []byte {
	if c == SnappyXerial {
		return xerial(raw)
	}
	codec := map[Compression]kgo.CompressionCodec{
		Gzip: kgo.GzipCompression(), Snappy: kgo.SnappyCompression(),
		Lz4: kgo.Lz4Compression(), Zstd: kgo.ZstdCompression(),
	}[c]
	comp, err := kgo.DefaultCompressor(codec)
	if err != nil {
		panic(err)
	}
	out, got := comp.Compress(new(bytes.Buffer), raw)
	if int8(got) != c.Codec() {
		panic(fmt.Sprintf("kgo compressed with codec %d, want %d", got, c.Codec()))
	}
	return bytes.Clone(out)
}

// xerial frames raw as snappy-java's SnappyOutputStream: magic, version 1,
// compatible version 1, then blocks of at most 32 KiB, each a big-endian
// length and a raw snappy block.
func xerial(raw []byte) []byte {
	out := []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}
	for len(raw) > 0 {
		n := min(len(raw), 32<<10)
		blk := s2.EncodeSnappy(nil, raw[:n])
		out = binary.BigEndian.AppendUint32(out, uint32(len(blk)))
		out = append(out, blk...)
		raw = raw[n:]
	}
	return out
}
