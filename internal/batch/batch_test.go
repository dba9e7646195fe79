package batch_test

import (
	"errors"
	"testing"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/batch/batchtest"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestCheckAcceptsClientBatch(t *testing.T) {
	b := batchtest.Values(1700000000000, 5, 100)
	h, err := batch.Check(b)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if h.NumRecords != 5 || h.LastOffsetDelta != 4 || h.Size() != int64(len(b)) {
		t.Fatalf("header %+v, len %d", h, len(b))
	}
	if h.BaseTimestamp != 1700000000000 || h.MaxTimestamp != 1700000000004 {
		t.Fatalf("timestamps %d %d", h.BaseTimestamp, h.MaxTimestamp)
	}
	// kmsg agrees with our reading.
	var kb kmsg.RecordBatch
	if err := kb.ReadFrom(b); err != nil {
		t.Fatal(err)
	}
	if kb.CRC != int32(h.CRC) || kb.NumRecords != h.NumRecords {
		t.Fatalf("kmsg %+v vs %+v", kb.CRC, h.CRC)
	}
}

func TestSetOffsetAndEpochKeepCRC(t *testing.T) {
	b := batchtest.Values(1, 3, 10)
	batch.SetBaseOffset(b, 1234)
	batch.SetLeaderEpoch(b, 7)
	h, err := batch.Check(b)
	if err != nil {
		t.Fatalf("check after set: %v", err)
	}
	if h.BaseOffset != 1234 || h.LeaderEpoch != 7 || h.LastOffset() != 1236 || h.NextOffset() != 1237 {
		t.Fatalf("header %+v", h)
	}
}

func TestCheckRejects(t *testing.T) {
	good := batchtest.Values(1, 3, 10)
	mut := func(f func(b []byte) []byte) []byte {
		c := append([]byte(nil), good...)
		return f(c)
	}
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, batch.ErrCorrupt},
		{"short header", good[:40], batch.ErrCorrupt},
		{"truncated", good[:len(good)-1], batch.ErrCorrupt},
		{"trailing bytes", append(append([]byte(nil), good...), 0), batch.ErrCorrupt},
		{"flipped record byte", mut(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), batch.ErrCorrupt},
		{"flipped crc", mut(func(b []byte) []byte { b[17] ^= 1; return b }), batch.ErrCorrupt},
		{"magic 1", mut(func(b []byte) []byte { b[16] = 1; return b }), batch.ErrInvalid},
		{"negative length", mut(func(b []byte) []byte { b[8] = 0xff; return b }), batch.ErrCorrupt},
		{"huge length", mut(func(b []byte) []byte { b[8] = 0x7f; return b }), batch.ErrCorrupt},
		{"negative count", mut(func(b []byte) []byte { b[57] = 0xff; batch.UpdateCRC(b); return b }), batch.ErrInvalid},
		{"codec 7", mut(func(b []byte) []byte { b[22] |= 7; batch.UpdateCRC(b); return b }), batch.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := append([]byte(nil), c.b...)
			_, err := batch.Check(c.b)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if string(before) != string(c.b) {
				t.Fatal("Check modified its input")
			}
		})
	}
}

func FuzzCheck(f *testing.F) {
	f.Add(batchtest.Values(1, 2, 3))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := batch.Check(b)
		if err == nil && h.Size() != int64(len(b)) {
			t.Fatalf("accepted batch of size %d in %d bytes", h.Size(), len(b))
		}
	})
}
