package batch

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Codec is a compression codec id, the low three bits of the attributes.
type Codec int8

const (
	CodecNone   Codec = 0
	CodecGzip   Codec = 1
	CodecSnappy Codec = 2 // raw snappy block, or the xerial framing of the Java client
	CodecLz4    Codec = 3 // LZ4 frame format (KIP-57)
	CodecZstd   Codec = 4
)

// MaxUncompressed bounds the decompressed records of one batch, so that a
// small hostile batch cannot make the broker allocate without limit.
// Kafka's message.max.bytes is 1 MiB by default; 256 MiB leaves room for
// any realistic compression ratio.
const MaxUncompressed = 256 << 20

// ErrTooLarge: the records decompress to more than MaxUncompressed bytes.
var ErrTooLarge = errors.New("record batch decompresses to more than the limit")

func (c Codec) String() string {
	switch c {
	case CodecNone:
		return "none"
	case CodecGzip:
		return "gzip"
	case CodecSnappy:
		return "snappy"
	case CodecLz4:
		return "lz4"
	case CodecZstd:
		return "zstd"
	}
	return fmt.Sprintf("codec(%d)", int8(c))
}

// Decompress appends the decompressed form of src to dst. Snappy input may
// be a raw block (franz-go, librdkafka) or xerial framed (the Java client).
// Safe for concurrent use.
func (c Codec) Decompress(dst, src []byte) ([]byte, error) {
	var out []byte
	var err error
	switch c {
	case CodecNone:
		out = append(dst, src...)
	case CodecGzip:
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(bytes.NewReader(src)); err == nil {
			out, err = readBounded(dst, zr)
		}
	case CodecSnappy:
		if IsXerial(src) {
			out, err = decodeXerial(dst, src)
		} else {
			out, err = decodeSnappyBlock(dst, src)
		}
	case CodecLz4:
		out, err = readBounded(dst, lz4.NewReader(bytes.NewReader(src)))
	case CodecZstd:
		var d *zstd.Decoder
		if d, err = zstdDecoder(); err == nil {
			out, err = d.DecodeAll(src, dst)
			if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
				err = fmt.Errorf("%w: %w", ErrTooLarge, err)
			}
		}
	default:
		return dst, fmt.Errorf("%w: unknown compression codec %d", ErrInvalid, int8(c))
	}
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return dst, err
		}
		return dst, fmt.Errorf("%w: %s records: %w", ErrCorrupt, c, err)
	}
	return out, nil
}

// Compress appends src compressed with c to dst: gzip at the default
// level, snappy as one raw block, lz4 as a frame of 64 KiB independent
// blocks (the Java producer's block size), zstd at the default level.
// Safe for concurrent use.
func (c Codec) Compress(dst, src []byte) ([]byte, error) {
	switch c {
	case CodecNone:
		return append(dst, src...), nil
	case CodecGzip:
		buf := bytes.NewBuffer(dst)
		zw := gzip.NewWriter(buf)
		if _, err := zw.Write(src); err != nil {
			return dst, err
		}
		if err := zw.Close(); err != nil {
			return dst, err
		}
		return buf.Bytes(), nil
	case CodecSnappy:
		return appendSnappyBlock(dst, src), nil
	case CodecLz4:
		buf := bytes.NewBuffer(dst)
		zw := lz4.NewWriter(buf)
		if err := zw.Apply(lz4.BlockSizeOption(lz4.Block64Kb)); err != nil {
			return dst, err
		}
		if _, err := zw.Write(src); err != nil {
			return dst, err
		}
		if err := zw.Close(); err != nil {
			return dst, err
		}
		return buf.Bytes(), nil
	case CodecZstd:
		e, err := zstdEncoder()
		if err != nil {
			return dst, err
		}
		return e.EncodeAll(src, dst), nil
	}
	return dst, fmt.Errorf("%w: unknown compression codec %d", ErrInvalid, int8(c))
}

// readBounded appends everything r yields to dst, failing past
// MaxUncompressed bytes.
func readBounded(dst []byte, r io.Reader) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	n, err := buf.ReadFrom(io.LimitReader(r, MaxUncompressed-int64(len(dst))+1))
	if err != nil {
		return dst, err
	}
	if int64(len(dst))+n > MaxUncompressed {
		return dst, ErrTooLarge
	}
	return buf.Bytes(), nil
}

func decodeSnappyBlock(dst, src []byte) ([]byte, error) {
	n, err := s2.DecodedLen(src)
	if err != nil {
		return dst, err
	}
	if len(dst)+n > MaxUncompressed {
		return dst, ErrTooLarge
	}
	dst = slices.Grow(dst, n)
	// s2 decodes snappy (it is a superset) into the given slice when it is
	// exactly long enough.
	out, err := s2.Decode(dst[len(dst):len(dst)+n], src)
	if err != nil {
		return dst, err
	}
	return dst[:len(dst)+len(out)], nil
}

func appendSnappyBlock(dst, src []byte) []byte {
	m := s2.MaxEncodedLen(len(src))
	dst = slices.Grow(dst, m)
	enc := s2.EncodeSnappy(dst[len(dst):len(dst)+m], src)
	return dst[:len(dst)+len(enc)]
}

// The xerial framing (snappy-java's SnappyOutputStream): an 8-byte magic, a
// version and a minimum compatible version (big-endian int32, both 1), then
// blocks, each a big-endian int32 length and a raw snappy block.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const (
	xerialHeaderSize = 16
	xerialBlockSize  = 32 << 10 // snappy-java's default block size
)

// IsXerial reports whether snappy-compressed records are xerial framed.
func IsXerial(src []byte) bool {
	return len(src) >= xerialHeaderSize && bytes.HasPrefix(src, xerialMagic)
}

// AppendXerial appends src snappy-compressed in the xerial framing, as the
// Java producer writes it.
func AppendXerial(dst, src []byte) []byte {
	dst = append(dst, xerialMagic...)
	dst = binary.BigEndian.AppendUint32(dst, 1)
	dst = binary.BigEndian.AppendUint32(dst, 1)
	for len(src) > 0 {
		n := min(len(src), xerialBlockSize)
		at := len(dst)
		dst = appendSnappyBlock(append(dst, 0, 0, 0, 0), src[:n])
		binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
		src = src[n:]
	}
	return dst
}

func decodeXerial(dst, src []byte) ([]byte, error) {
	src = src[xerialHeaderSize:]
	for len(src) > 0 {
		if len(src) < 4 {
			return dst, errors.New("xerial block length cut short")
		}
		n := binary.BigEndian.Uint32(src)
		src = src[4:]
		if uint64(n) > uint64(len(src)) {
			return dst, fmt.Errorf("xerial block of %d bytes with %d left", n, len(src))
		}
		var err error
		if dst, err = decodeSnappyBlock(dst, src[:n]); err != nil {
			return dst, err
		}
		src = src[n:]
	}
	return dst, nil
}

// One zstd decoder and encoder for the process: both are safe for
// concurrent DecodeAll/EncodeAll and hold no state between calls, only
// reusable buffers, so sharing them is a cache, not shared state.
var (
	zstdDecOnce sync.Once
	zstdDec     *zstd.Decoder
	zstdDecErr  error

	zstdEncOnce sync.Once
	zstdEnc     *zstd.Encoder
	zstdEncErr  error
)

func zstdDecoder() (*zstd.Decoder, error) {
	zstdDecOnce.Do(func() {
		zstdDec, zstdDecErr = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(MaxUncompressed))
	})
	return zstdDec, zstdDecErr
}

func zstdEncoder() (*zstd.Encoder, error) {
	zstdEncOnce.Do(func() {
		zstdEnc, zstdEncErr = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
	})
	return zstdEnc, zstdEncErr
}
