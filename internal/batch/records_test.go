package batch_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/batch/batchtest"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// sampleRecords covers null and empty keys, tombstones, headers (one with
// a null value), negative and large timestamp deltas.
func sampleRecords() []batchtest.Record {
	return []batchtest.Record{
		{Key: []byte("k1"), Value: []byte("v1"), TsDelta: 0},
		{Key: nil, Value: []byte("no key"), TsDelta: 5},
		{Key: []byte{}, Value: []byte{}, TsDelta: 1 << 40},
		{Key: []byte("k1"), Value: nil, TsDelta: -3}, // tombstone
		{Key: []byte("k2"), Value: bytes.Repeat([]byte("xyz"), 1000), TsDelta: 7,
			Headers: []kmsg.Header{{Key: "h1", Value: []byte("a")}, {Key: "", Value: nil}}},
	}
}

// decodeAll decodes b with batch's decoder.
func decodeAll(t *testing.T, d *batch.Decoder, b []byte) (batch.Header, []batch.Record) {
	t.Helper()
	h, it, err := d.Records(b)
	if err != nil {
		t.Fatalf("records: %v", err)
	}
	var rs []batch.Record
	for r, ok := it.Next(); ok; r, ok = it.Next() {
		rs = append(rs, r)
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iterate: %v", err)
	}
	return h, rs
}

func sameRecord(t *testing.T, i int, got batch.Record, want batchtest.Record) {
	t.Helper()
	if got.OffsetDelta != int32(i) || got.TimestampDelta != want.TsDelta {
		t.Fatalf("record %d: deltas %d %d, want %d %d", i, got.OffsetDelta, got.TimestampDelta, i, want.TsDelta)
	}
	if (got.Key == nil) != (want.Key == nil) || !bytes.Equal(got.Key, want.Key) {
		t.Fatalf("record %d: key %q (nil %v), want %q (nil %v)", i, got.Key, got.Key == nil, want.Key, want.Key == nil)
	}
	if (got.Value == nil) != (want.Value == nil) || !bytes.Equal(got.Value, want.Value) {
		t.Fatalf("record %d: value nil %v, want nil %v", i, got.Value == nil, want.Value == nil)
	}
	hs := got.Headers(nil)
	if len(hs) != len(want.Headers) || got.NumHeaders() != len(want.Headers) {
		t.Fatalf("record %d: %d headers, want %d", i, len(hs), len(want.Headers))
	}
	for j, h := range hs {
		w := want.Headers[j]
		if string(h.Key) != w.Key || !bytes.Equal(h.Value, w.Value) || (h.Value == nil) != (w.Value == nil) {
			t.Fatalf("record %d header %d: %q=%q, want %q=%q", i, j, h.Key, h.Value, w.Key, w.Value)
		}
	}
}

func TestRecordsDecodeUncompressed(t *testing.T) {
	want := sampleRecords()
	b := batchtest.Build(batchtest.Options{FirstTimestamp: 1000}, want...)
	var d batch.Decoder
	h, rs := decodeAll(t, &d, b)
	if h.NumRecords != int32(len(want)) || len(rs) != len(want) {
		t.Fatalf("%d records, header says %d, want %d", len(rs), h.NumRecords, len(want))
	}
	var raw []byte
	for i, r := range rs {
		sameRecord(t, i, r, want[i])
		raw = append(raw, r.Raw...)
	}
	// Raw covers the records section exactly, byte for byte.
	if !bytes.Equal(raw, b[batch.HeaderSize:]) {
		t.Fatal("Raw of the records is not the records section")
	}
}

// kgoRecords is what franz-go's consumer makes of the batches in b.
func kgoRecords(t *testing.T, b []byte) []*kgo.Record {
	t.Helper()
	fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Topic: "t"},
		&kmsg.FetchResponseTopicPartition{RecordBatches: b, HighWatermark: 1 << 40}, kgo.DefaultDecompressor(), nil)
	if fp.Err != nil {
		t.Fatalf("kgo rejects the batch: %v", fp.Err)
	}
	return fp.Records
}

func TestRecordsCodecs(t *testing.T) {
	want := sampleRecords()
	for _, c := range batchtest.Compressions {
		t.Run(c.String(), func(t *testing.T) {
			b := batchtest.BuildCompressed(batchtest.Options{FirstTimestamp: 5000}, c, want...)
			var d batch.Decoder
			h, rs := decodeAll(t, &d, b)
			if h.Compression() != c.Codec() || len(rs) != len(want) {
				t.Fatalf("codec %d, %d records", h.Compression(), len(rs))
			}
			var raw []byte
			for i, r := range rs {
				sameRecord(t, i, r, want[i])
				raw = append(raw, r.Raw...)
			}
			if got := batch.IsXerial(b[batch.HeaderSize:]); got != (c == batchtest.SnappyXerial) {
				t.Fatalf("IsXerial %v", got)
			}

			// Re-encode as compaction does: same codec (same framing), new
			// header fields, CRC and length computed.
			codec := batch.Codec(h.Compression())
			var comp []byte
			var err error
			if c == batchtest.SnappyXerial {
				comp = batch.AppendXerial(nil, raw)
			} else if comp, err = codec.Compress(nil, raw); err != nil {
				t.Fatal(err)
			}
			nh := h
			nh.BaseOffset = 100
			nb := batch.AppendBatch(nil, nh, comp)
			ch, err := batch.Check(nb)
			if err != nil {
				t.Fatalf("rebuilt batch: %v", err)
			}
			if ch.BaseOffset != 100 || ch.NumRecords != h.NumRecords || ch.Compression() != h.Compression() || ch.ProducerID != h.ProducerID {
				t.Fatalf("rebuilt header %+v from %+v", ch, h)
			}
			if batch.IsXerial(nb[batch.HeaderSize:]) != (c == batchtest.SnappyXerial) {
				t.Fatal("framing not kept")
			}
			var kb kmsg.RecordBatch
			if err := kb.ReadFrom(nb); err != nil || kb.CRC != int32(ch.CRC) {
				t.Fatalf("kmsg: %v", err)
			}
			// franz-go's consumer decompresses and decodes it to the same
			// records, at the same offsets and timestamps.
			krs := kgoRecords(t, nb)
			if len(krs) != len(want) {
				t.Fatalf("kgo sees %d records", len(krs))
			}
			for i, kr := range krs {
				w := want[i]
				if kr.Offset != 100+int64(i) || !bytes.Equal(kr.Key, w.Key) || !bytes.Equal(kr.Value, w.Value) ||
					kr.Timestamp.UnixMilli() != 5000+w.TsDelta || len(kr.Headers) != len(w.Headers) {
					t.Fatalf("kgo record %d: %+v", i, kr)
				}
			}
		})
	}
}

func TestCodecRoundTripSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 100, 64 << 10, 200<<10 + 17} {
		src := make([]byte, n)
		for i := range src { // compressible but not trivial
			src[i] = byte(rng.IntN(16))
		}
		for _, c := range []batch.Codec{batch.CodecNone, batch.CodecGzip, batch.CodecSnappy, batch.CodecLz4, batch.CodecZstd} {
			prefix := []byte("keep")
			comp, err := c.Compress(append([]byte(nil), prefix...), src)
			if err != nil || !bytes.HasPrefix(comp, prefix) {
				t.Fatalf("%s %d: compress %v", c, n, err)
			}
			got, err := c.Decompress([]byte("old"), comp[len(prefix):])
			if err != nil || !bytes.Equal(got, append([]byte("old"), src...)) {
				t.Fatalf("%s %d: round trip: %v", c, n, err)
			}
			// franz-go reads what we write.
			if c != batch.CodecNone {
				kg, err := kgo.DefaultDecompressor().Decompress(comp[len(prefix):], kgo.CompressionCodecType(c))
				if err != nil || !bytes.Equal(kg, src) {
					t.Fatalf("%s %d: kgo decompress: %v", c, n, err)
				}
			}
		}
		x := batch.AppendXerial(nil, src)
		if got, err := batch.CodecSnappy.Decompress(nil, x); err != nil || !bytes.Equal(got, src) {
			t.Fatalf("xerial %d: %v", n, err)
		}
		// (franz-go takes a bare xerial header for a raw block; compaction
		// never compresses an empty records section.)
		if kg, err := kgo.DefaultDecompressor().Decompress(x, kgo.CodecSnappy); n > 0 && (err != nil || !bytes.Equal(kg, src)) {
			t.Fatalf("xerial %d: kgo: %v", n, err)
		}
	}
}

func TestAppendRecordReencodes(t *testing.T) {
	want := sampleRecords()
	b := batchtest.Build(batchtest.Options{FirstTimestamp: 1}, want...)
	var d batch.Decoder
	_, rs := decodeAll(t, &d, b)
	for i, r := range rs {
		// Unchanged fields give the same bytes.
		if got := batch.AppendRecord(nil, r); !bytes.Equal(got, r.Raw) {
			t.Fatalf("record %d re-encodes differently", i)
		}
		// A new timestamp delta keeps everything else, headers included.
		r.TimestampDelta = -1 << 50
		enc := batch.AppendRecord([]byte("x"), r)
		got, rest, err := batch.ReadRecord(enc[1:])
		if err != nil || len(rest) != 0 {
			t.Fatalf("record %d: %v, %d left", i, err, len(rest))
		}
		w := want[i]
		w.TsDelta = -1 << 50
		sameRecord(t, i, got, w)
	}
	// A record built by hand.
	r := batch.Record{OffsetDelta: 3, TimestampDelta: 9, Key: []byte("k"), Value: nil}
	got, _, err := batch.ReadRecord(batch.AppendRecord(nil, r))
	if err != nil || got.OffsetDelta != 3 || got.TimestampDelta != 9 || string(got.Key) != "k" || got.Value != nil || got.NumHeaders() != 0 {
		t.Fatalf("hand-built record: %+v %v", got, err)
	}
}

func TestRecordsRejectMalformed(t *testing.T) {
	good := batchtest.Build(batchtest.Options{}, sampleRecords()...)
	withCount := func(n int32) []byte {
		b := append([]byte(nil), good...)
		binary.BigEndian.PutUint32(b[57:], uint32(n))
		batch.UpdateCRC(b)
		return b
	}
	// A record whose header key is null.
	body := []byte{0}                    // attributes
	body = binary.AppendVarint(body, 0)  // ts delta
	body = binary.AppendVarint(body, 0)  // offset delta
	body = binary.AppendVarint(body, -1) // key
	body = binary.AppendVarint(body, -1) // value
	body = binary.AppendVarint(body, 1)  // one header
	body = binary.AppendVarint(body, -1) // null header key
	body = binary.AppendVarint(body, -1)
	nullHdrKey := append(binary.AppendVarint(nil, int64(len(body))), body...)

	gz := batchtest.BuildCompressed(batchtest.Options{}, batchtest.Gzip, sampleRecords()...)
	badGz := append([]byte(nil), gz...)
	badGz[len(badGz)-10] ^= 0xff // inside the gzip trailer's CRC or data
	batch.UpdateCRC(badGz)

	cases := []struct {
		name string
		b    []byte
	}{
		{"count too high", withCount(6)},
		{"count too low", withCount(4)},
		{"garbage records", append(append([]byte(nil), good[:batch.HeaderSize]...), 0xff, 0xff, 0xff)},
		{"corrupt gzip", badGz},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.b
			binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
			batch.UpdateCRC(b)
			var d batch.Decoder
			_, it, err := d.Records(b)
			if err == nil {
				for _, ok := it.Next(); ok; _, ok = it.Next() {
				}
				err = it.Err()
			}
			if !errors.Is(err, batch.ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
		})
	}
	if _, _, err := batch.ReadRecord(nullHdrKey); !errors.Is(err, batch.ErrCorrupt) {
		t.Fatalf("null header key: %v", err)
	}
	// A snappy block announcing more than MaxUncompressed is refused before
	// anything is allocated.
	bomb := binary.AppendUvarint(nil, batch.MaxUncompressed+1)
	if _, err := batch.CodecSnappy.Decompress(nil, bomb); !errors.Is(err, batch.ErrTooLarge) {
		t.Fatalf("snappy bomb: %v", err)
	}
}

func FuzzRecords(f *testing.F) {
	good := batchtest.Build(batchtest.Options{}, sampleRecords()...)
	f.Add(good[batch.HeaderSize:], int32(5))
	f.Add([]byte{}, int32(0))
	f.Add([]byte{2, 0, 0}, int32(1))
	f.Fuzz(func(t *testing.T, data []byte, n int32) {
		it := batch.NewRecordIter(data, n)
		for r, ok := it.Next(); ok; r, ok = it.Next() {
			// Whatever decodes re-encodes to a record that decodes the same.
			enc := batch.AppendRecord(nil, r)
			r2, rest, err := batch.ReadRecord(enc)
			if err != nil || len(rest) != 0 {
				t.Fatalf("re-encoded record does not decode: %v", err)
			}
			if fmt.Sprint(r2.Attributes, r2.TimestampDelta, r2.OffsetDelta, r2.Key, r2.Value, r2.Headers(nil)) !=
				fmt.Sprint(r.Attributes, r.TimestampDelta, r.OffsetDelta, r.Key, r.Value, r.Headers(nil)) ||
				(r2.Key == nil) != (r.Key == nil) || (r2.Value == nil) != (r.Value == nil) {
				t.Fatalf("re-encoded record differs: %+v vs %+v", r2, r)
			}
		}
		_ = it.Err()
	})
}
