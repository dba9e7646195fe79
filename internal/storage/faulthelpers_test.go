package storage_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"testing"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/batch/batchtest"
	"github.com/ailurus/ailurus/internal/storage"
)

// Helpers shared by the fault-injection, crash-point and kill -9 tests.

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// faultLogDir is where the tests keep the log inside a faultfs.
const faultLogDir = "/data/topic-0"

// faultOptions are small enough that a few dozen batches roll several
// segments and preallocate several times.
func faultOptions() storage.Options {
	o := storage.DefaultOptions()
	o.SegmentBytes = 4 << 10
	o.IndexIntervalBytes = 1024
	o.PreallocBytes = 2 << 10
	o.RetentionMs = -1
	return o
}

func openOn(fsys storage.FS, dir string, o storage.Options) (*storage.Log, error) {
	return storage.Open(dir, o, storage.Env{FS: fsys, Logger: quietLogger(), Flusher: storage.NewFlusher(2)})
}

func mustOpenOn(t *testing.T, fsys storage.FS, o storage.Options) *storage.Log {
	t.Helper()
	l, err := openOn(fsys, faultLogDir, o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// uniqueBatch builds a batch that no other id gives: 1 to 3 records, values
// derived from id, about size bytes in all.
func uniqueBatch(id, size int) []byte {
	n := 1 + id%3
	recs := make([]batchtest.Record, n)
	for i := range recs {
		v := make([]byte, max(size/n-20, 1))
		x := uint32(id)*2654435761 + uint32(i)
		for j := range v {
			x = x*1664525 + 1013904223
			v[j] = byte(x >> 24)
		}
		recs[i] = batchtest.Record{Key: fmt.Appendf(nil, "id-%d-%d", id, i), Value: v, TsDelta: int64(i)}
	}
	return batchtest.Build(batchtest.Options{FirstTimestamp: 1_700_000_000_000 + int64(id)}, recs...)
}

// identity names a batch whatever offset and epoch the log gave it: its
// length and every byte from the magic on.
func identity(b []byte) string { return string(b[8:12]) + string(b[16:]) }

func nextOffset(b []byte) int64 {
	h, _ := batch.Parse(b)
	return h.NextOffset()
}

// readBatches reads the whole log from its start offset and checks its shape:
// every batch whole and passing its CRC, offsets contiguous, the first batch
// holding the start offset, the last ending at the end offset.
func readBatches(l *storage.Log) ([][]byte, error) {
	start, end := l.StartOffset(), l.EndOffset()
	var out [][]byte
	var s storage.Slice
	defer s.Release()
	for from := start; ; {
		if err := l.Read(from, 1<<62, 1<<20, &s); err != nil {
			return nil, fmt.Errorf("read at %d: %w", from, err)
		}
		if s.Size == 0 {
			break
		}
		b, err := s.AppendTo(nil)
		if err != nil {
			return nil, err
		}
		if int64(len(b)) != s.Size {
			return nil, fmt.Errorf("read at %d: %d bytes, slice says %d", from, len(b), s.Size)
		}
		for len(b) > 0 {
			h, err := batch.Parse(b)
			if err != nil || h.Size() > int64(len(b)) {
				return nil, fmt.Errorf("read at %d: batch header %v (size %d of %d left)", from, err, h.Size(), len(b))
			}
			if _, err := batch.Check(b[:h.Size()]); err != nil {
				return nil, fmt.Errorf("served a bad batch at %d: %w", h.BaseOffset, err)
			}
			out = append(out, bytes.Clone(b[:h.Size()]))
			b = b[h.Size():]
		}
		from = s.NextOffset
	}
	want := start
	for i, b := range out {
		h, _ := batch.Parse(b)
		switch {
		case i == 0 && (start < h.BaseOffset || start >= h.NextOffset()):
			return nil, fmt.Errorf("first batch [%d, %d) does not hold the start offset %d", h.BaseOffset, h.NextOffset(), start)
		case i > 0 && h.BaseOffset != want:
			return nil, fmt.Errorf("batch at %d follows one ending at %d", h.BaseOffset, want)
		}
		want = h.NextOffset()
	}
	if want != end {
		return nil, fmt.Errorf("batches end at %d, end offset is %d", want, end)
	}
	return out, nil
}

// model is what a log must and may hold, as the test knows it.
type model struct {
	must    map[int64][]byte  // acknowledged batches by base offset, byte for byte
	allowed map[string][]byte // every batch the log may hold, by identity
	start   int64             // log start offset made durable
	// Effects of a step still in progress, which a crash may or may not
	// keep: acknowledged batches from cutFrom on may be gone (suffix
	// truncation), the start offset may be anywhere up to startUpTo (prefix
	// deletion). -1: none.
	cutFrom, startUpTo int64
}

func newModel() model {
	return model{must: map[int64][]byte{}, allowed: map[string][]byte{}, cutFrom: -1, startUpTo: -1}
}

func (m model) clone() model {
	c := m
	c.must, c.allowed = maps.Clone(m.must), maps.Clone(m.allowed)
	return c
}

// check verifies l against m: readBatches' shape, every batch one the test
// wrote (so nothing torn, stale or truncated comes back), every
// acknowledged batch present byte for byte, the start offset where it must
// be.
func (m model) check(l *storage.Log) error {
	start := l.StartOffset()
	if start < m.start || (start > m.start && start > m.startUpTo) {
		return fmt.Errorf("start offset %d, want %d (or up to %d)", start, m.start, m.startUpTo)
	}
	bs, err := readBatches(l)
	if err != nil {
		return err
	}
	at := map[int64][]byte{}
	for _, b := range bs {
		h, _ := batch.Parse(b)
		if want, ok := m.allowed[identity(b)]; !ok || !bytes.Equal(want, b) {
			return fmt.Errorf("batch at %d (%d bytes) was never written there (known %v)", h.BaseOffset, len(b), ok)
		}
		at[h.BaseOffset] = b
	}
	for off, b := range m.must {
		if nextOffset(b) <= start || (m.cutFrom >= 0 && off >= m.cutFrom) {
			continue
		}
		if !bytes.Equal(at[off], b) {
			return fmt.Errorf("acknowledged batch at %d lost (log is [%d, %d), %d batches)", off, start, l.EndOffset(), len(bs))
		}
	}
	return nil
}

var errStop = errors.New("test stops here")
