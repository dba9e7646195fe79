package storage

import (
	"bytes"
	"errors"
	"testing"

	"github.com/ailurus/ailurus/internal/batch"
)

func TestStorageReadOrdinals(t *testing.T) {
	l := openTest(t, t.TempDir(), testOptions())
	appendN(t, l, 1, 200, 3, 100) // ~400 B batches over several 64 KiB segments
	for _, ord := range []int64{0, 1, 57, 150, 199} {
		want, _, err := l.ReadOrdinal(ord, nil)
		if err != nil {
			t.Fatal(err)
		}
		// A budget below one batch still returns that batch, whole.
		got, n, err := l.ReadOrdinals(ord, 1, nil)
		if err != nil || n != 1 || !bytes.Equal(got, want) {
			t.Fatalf("ordinal %d, tiny budget: %d batches, %v", ord, n, err)
		}
		got, n, err = l.ReadOrdinals(ord, 4096, []byte("prefix"))
		if err != nil || n < 1 || int64(len(got)-6) > 4096 || string(got[:6]) != "prefix" {
			t.Fatalf("ordinal %d: %d batches, %d bytes, %v", ord, n, len(got), err)
		}
		// The run is n consecutive whole batches, each what ReadOrdinal gives.
		b := got[6:]
		for i := 0; i < n; i++ {
			h, err := batch.Check(b[:mustSize(t, b)])
			if err != nil {
				t.Fatalf("ordinal %d run batch %d: %v", ord, i, err)
			}
			one, p, _ := l.ReadOrdinal(ord+int64(i), nil)
			if !bytes.Equal(one, b[:h.Size()]) || p.Ordinal != ord+int64(i) {
				t.Fatalf("ordinal %d run batch %d differs from ReadOrdinal", ord, i)
			}
			b = b[h.Size():]
		}
		if len(b) != 0 {
			t.Fatalf("ordinal %d: %d stray bytes after the run", ord, len(b))
		}
	}
	if _, _, err := l.ReadOrdinals(200, 1<<20, nil); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("ordinal past the end: %v", err)
	}
}
