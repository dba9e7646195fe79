package storage

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/batch/batchtest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testOptions() Options {
	o := DefaultOptions()
	o.SegmentBytes = 64 << 10
	o.IndexIntervalBytes = 1024
	o.PreallocBytes = 16 << 10
	return o
}

func openTest(t *testing.T, dir string, o Options) *Log {
	t.Helper()
	l, err := Open(dir, o, Env{Logger: quiet()})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// readAll reads every batch from offset from up to the log end.
func readAll(t *testing.T, l *Log, from int64) []batch.Header {
	t.Helper()
	var hs []batch.Header
	var s Slice
	defer s.Release()
	for {
		if err := l.Read(from, 1<<62, 1<<20, &s); err != nil {
			t.Fatalf("read at %d: %v", from, err)
		}
		if s.Size == 0 {
			return hs
		}
		b, err := s.AppendTo(nil)
		if err != nil {
			t.Fatal(err)
		}
		for len(b) > 0 {
			h, err := batch.Check(b[:mustSize(t, b)])
			if err != nil {
				t.Fatalf("read back a bad batch: %v", err)
			}
			hs = append(hs, h)
			b = b[h.Size():]
		}
		from = s.NextOffset
	}
}

func mustSize(t *testing.T, b []byte) int64 {
	h, err := batch.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return h.Size()
}

func appendN(t *testing.T, l *Log, term int32, n, recs, size int) []AppendResult {
	t.Helper()
	var out []AppendResult
	for i := 0; i < n; i++ {
		r, err := l.Append(term, batchtest.Values(int64(1000+i), recs, size))
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		out = append(out, r)
	}
	return out
}

func TestStorageAppendAssignsOffsetsAndReadsBack(t *testing.T) {
	l := openTest(t, t.TempDir(), testOptions())
	b1 := batchtest.Values(10, 3, 50)
	orig := append([]byte(nil), b1...)
	r, err := l.Append(5, b1)
	if err != nil {
		t.Fatal(err)
	}
	if r.BaseOffset != 0 || r.LastOffset != 2 || r.FirstOrdinal != 0 {
		t.Fatalf("first append %+v", r)
	}
	r, err = l.Append(5, batchtest.Values(20, 2, 50), batchtest.Values(30, 4, 50))
	if err != nil {
		t.Fatal(err)
	}
	if r.BaseOffset != 3 || r.LastOffset != 8 || r.FirstOrdinal != 1 {
		t.Fatalf("second append %+v", r)
	}
	if l.EndOffset() != 9 {
		t.Fatalf("end offset %d", l.EndOffset())
	}
	var s Slice
	if err := l.Read(0, 100, 1<<20, &s); err != nil {
		t.Fatal(err)
	}
	got, _ := s.AppendTo(nil)
	s.Release()
	// The stored bytes are the client's, except base offset and epoch.
	want := append([]byte(nil), orig...)
	batch.SetBaseOffset(want, 0)
	batch.SetLeaderEpoch(want, 5)
	if !bytes.Equal(got[:len(want)], want) {
		t.Fatal("first batch not stored byte for byte")
	}
	hs := readAll(t, l, 0)
	if len(hs) != 3 || hs[1].BaseOffset != 3 || hs[2].BaseOffset != 5 || hs[2].LeaderEpoch != 5 {
		t.Fatalf("headers %+v", hs)
	}
	// Reading from the middle of a batch returns that whole batch.
	if hs := readAll(t, l, 4); len(hs) != 2 || hs[0].BaseOffset != 3 {
		t.Fatalf("read at 4: %+v", hs)
	}
}

func TestStorageRejectsBadBatchWithoutTouchingLog(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, testOptions())
	appendN(t, l, 1, 3, 2, 10)
	before := l.Size()
	good := batchtest.Values(1, 2, 10)
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 0xff
	_, err := l.Append(1, good, bad)
	if !errors.Is(err, ErrCorruptBatch) {
		t.Fatalf("got %v, want ErrCorruptBatch", err)
	}
	magic := append([]byte(nil), good...)
	magic[16] = 1
	if _, err := l.Append(1, magic); !errors.Is(err, ErrInvalidBatch) {
		t.Fatalf("got %v, want ErrInvalidBatch", err)
	}
	if _, err := l.Append(1, good[:30]); !errors.Is(err, ErrCorruptBatch) {
		t.Fatalf("truncated batch: got %v", err)
	}
	if l.Size() != before || l.EndOffset() != 6 {
		t.Fatalf("log changed: size %d end %d", l.Size(), l.EndOffset())
	}
	if _, err := l.Append(1, good); err != nil {
		t.Fatalf("good append after bad: %v", err)
	}
}

func TestStorageRollsBySizeTermAndAge(t *testing.T) {
	dir := t.TempDir()
	o := testOptions()
	o.SegmentMs = 60_000
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l, err := Open(dir, o, Env{Logger: quiet(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	appendN(t, l, 1, 40, 10, 300) // ~3.3 KiB each: 130 KiB over 64 KiB segments
	segs := l.Segments()
	if len(segs) < 2 {
		t.Fatalf("expected a size roll, have %d segments", len(segs))
	}
	for i, s := range segs[:len(segs)-1] {
		if s.Size > o.SegmentBytes || !s.Sealed || s.NextOffset != segs[i+1].BaseOffset {
			t.Fatalf("segment %d: %+v", i, s)
		}
	}
	n := len(segs)
	appendN(t, l, 2, 1, 1, 10)
	segs = l.Segments()
	if len(segs) != n+1 || segs[n].Term != 2 || filepath.Base(segs[n].Path) != segmentName(segs[n].BaseOffset, 2) {
		t.Fatalf("term change did not roll: %+v", segs[len(segs)-1])
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	appendN(t, l, 2, 1, 1, 10)
	if len(l.Segments()) != n+2 {
		t.Fatalf("age did not roll: %d segments", len(l.Segments()))
	}
	if hs := readAll(t, l, 0); len(hs) != 42 {
		t.Fatalf("read %d batches, want 42", len(hs))
	}
}

func TestStorageReadBudgetAndBounds(t *testing.T) {
	l := openTest(t, t.TempDir(), testOptions())
	appendN(t, l, 1, 50, 5, 200) // ~1.1 KiB batches, several segments
	var s Slice
	defer s.Release()
	// maxBytes smaller than one batch still returns one whole batch (KIP-74).
	if err := l.Read(0, 1<<62, 10, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Chunks) != 1 || s.NextOffset != 5 {
		t.Fatalf("tiny budget: %d chunks, next %d", len(s.Chunks), s.NextOffset)
	}
	// A budget never splits a batch and is never exceeded beyond the first.
	if err := l.Read(0, 1<<62, 5000, &s); err != nil {
		t.Fatal(err)
	}
	if s.Size > 5000 || s.NextOffset%5 != 0 || s.NextOffset == 0 {
		t.Fatalf("budget: size %d next %d", s.Size, s.NextOffset)
	}
	// maxOffset (high watermark) stops before batches at or after it.
	if err := l.Read(0, 12, 1<<20, &s); err != nil {
		t.Fatal(err)
	}
	if s.NextOffset != 15 { // the batch [10,15) starts below 12 and is served whole
		t.Fatalf("maxOffset: next %d", s.NextOffset)
	}
	if err := l.Read(10, 10, 1<<20, &s); err != nil || s.Size != 0 {
		t.Fatalf("read at maxOffset: size %d err %v", s.Size, err)
	}
	// The end is readable and empty; past it is out of range.
	if err := l.Read(250, 1<<62, 1<<20, &s); err != nil || s.Size != 0 {
		t.Fatalf("read at end: %v size %d", err, s.Size)
	}
	if err := l.Read(251, 1<<62, 1<<20, &s); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read past end: %v", err)
	}
	// Reads across every segment see every batch exactly once, in order.
	hs := readAll(t, l, 0)
	if len(hs) != 50 {
		t.Fatalf("%d batches", len(hs))
	}
	for i, h := range hs {
		if h.BaseOffset != int64(i*5) {
			t.Fatalf("batch %d at %d", i, h.BaseOffset)
		}
	}
}

func TestStorageFindTimeAndOrdinal(t *testing.T) {
	l := openTest(t, t.TempDir(), testOptions())
	for i := 0; i < 60; i++ {
		if _, err := l.Append(1, batchtest.Values(int64(i*100), 4, 300)); err != nil {
			t.Fatal(err)
		}
	}
	// Batch i has timestamps i*100 .. i*100+3.
	for _, c := range []struct {
		ts   int64
		base int64
		ok   bool
	}{{0, 0, true}, {3, 0, true}, {4, 4, true}, {150, 8, true}, {5903, 236, true}, {5904, 0, false}} {
		p, ok, err := l.FindTime(c.ts)
		if err != nil || ok != c.ok || (ok && p.BaseOffset != c.base) {
			t.Fatalf("FindTime(%d) = %+v %v %v, want base %d ok %v", c.ts, p, ok, err, c.base, c.ok)
		}
	}
	p, ok, err := l.FindMaxTimestamp()
	if err != nil || !ok || p.BaseOffset != 236 || p.MaxTimestamp != 5903 {
		t.Fatalf("max timestamp %+v %v %v", p, ok, err)
	}
	for _, ord := range []int64{0, 1, 17, 59} {
		b, p, err := l.ReadOrdinal(ord, nil)
		if err != nil || p.BaseOffset != ord*4 || p.Ordinal != ord {
			t.Fatalf("ordinal %d: %+v %v", ord, p, err)
		}
		if h, err := batch.Check(b); err != nil || h.BaseOffset != ord*4 {
			t.Fatalf("ordinal %d bytes: %v", ord, err)
		}
	}
	if _, _, err := l.ReadOrdinal(60, nil); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("ordinal past end: %v", err)
	}
}

func TestStorageReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	o := testOptions()
	l, err := Open(dir, o, Env{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 3, 80, 5, 200)
	segs := l.Segments()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openTest(t, dir, o)
	if l.EndOffset() != 400 || l.NextOrdinal() != 80 {
		t.Fatalf("after reopen end %d ordinal %d", l.EndOffset(), l.NextOrdinal())
	}
	if got := l.Segments(); len(got) != len(segs) {
		t.Fatalf("segments %d, want %d", len(got), len(segs))
	}
	if hs := readAll(t, l, 0); len(hs) != 80 {
		t.Fatalf("%d batches after reopen", len(hs))
	}
	// Appends continue after the recovered end.
	r, err := l.Append(3, batchtest.Values(1, 1, 1))
	if err != nil || r.BaseOffset != 400 || r.FirstOrdinal != 80 {
		t.Fatalf("append after reopen %+v %v", r, err)
	}
}

// lastSegmentPath is the newest segment file in dir.
func lastSegmentPath(t *testing.T, dir string) string {
	m, _ := filepath.Glob(filepath.Join(dir, "*-v1.log"))
	sort.Slice(m, func(i, j int) bool {
		a, _, _ := parseSegmentName(filepath.Base(m[i]))
		b, _, _ := parseSegmentName(filepath.Base(m[j]))
		return a < b
	})
	if len(m) == 0 {
		t.Fatal("no segments")
	}
	return m[len(m)-1]
}

func TestStorageRecoveryCutsTornTail(t *testing.T) {
	for _, tc := range []struct {
		name string
		tear func(t *testing.T, path string, size int64)
	}{
		{"half a batch", func(t *testing.T, p string, size int64) {
			f, _ := os.OpenFile(p, os.O_RDWR, 0)
			defer f.Close()
			b := batchtest.Values(1, 5, 100)
			batch.SetBaseOffset(b, 50)
			f.WriteAt(b[:len(b)/2], size)
		}},
		{"crc mismatch", func(t *testing.T, p string, size int64) {
			f, _ := os.OpenFile(p, os.O_RDWR, 0)
			defer f.Close()
			b := batchtest.Values(1, 5, 100)
			batch.SetBaseOffset(b, 50)
			b[len(b)-3] ^= 1
			f.WriteAt(b, size)
		}},
		{"garbage", func(t *testing.T, p string, size int64) {
			f, _ := os.OpenFile(p, os.O_RDWR, 0)
			defer f.Close()
			f.WriteAt(bytes.Repeat([]byte{0xab}, 500), size)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions()
			o.SegmentBytes = 1 << 20
			l, err := Open(dir, o, Env{Logger: quiet()})
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, l, 1, 10, 5, 100)
			size := l.Size()
			l.Close()
			tc.tear(t, lastSegmentPath(t, dir), size)
			l = openTest(t, dir, o)
			if l.EndOffset() != 50 || l.Size() != size {
				t.Fatalf("after recovery end %d size %d, want 50 %d", l.EndOffset(), l.Size(), size)
			}
			if l.Stats().RecoveryCutBytes == 0 {
				t.Fatal("recovery cut nothing")
			}
			if hs := readAll(t, l, 0); len(hs) != 10 {
				t.Fatalf("%d batches", len(hs))
			}
			if _, err := l.Append(1, batchtest.Values(1, 1, 1)); err != nil {
				t.Fatal(err)
			}
			if hs := readAll(t, l, 0); len(hs) != 11 || hs[10].BaseOffset != 50 {
				t.Fatalf("after append: %d batches", len(hs))
			}
		})
	}
}

func TestStorageRebuildsMissingOrBadIndex(t *testing.T) {
	for _, damage := range []string{"missing", "garbage", "stale"} {
		t.Run(damage, func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions()
			l, err := Open(dir, o, Env{Logger: quiet()})
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, l, 1, 100, 5, 200)
			l.Close()
			idx, _ := filepath.Glob(filepath.Join(dir, "*.index"))
			for _, p := range idx {
				switch damage {
				case "missing":
					os.Remove(p)
				case "garbage":
					os.WriteFile(p, bytes.Repeat([]byte{7}, 100), 0o644)
				case "stale": // entries pointing into the wrong places
					b, _ := os.ReadFile(p)
					if len(b) > indexHeaderSize+2*indexEntrySize {
						e := indexEntry{relOffset: 99999, pos: 123, relOrdinal: 5000, maxTsBefore: 0}
						b = appendIndexEntry(b, e)
						os.WriteFile(p, b, 0o644)
					}
				}
			}
			l = openTest(t, dir, o)
			hs := readAll(t, l, 0)
			if len(hs) != 100 {
				t.Fatalf("%d batches", len(hs))
			}
			for _, ord := range []int64{0, 42, 99} {
				if p, ok, err := l.FindOrdinal(ord); !ok || err != nil || p.BaseOffset != ord*5 {
					t.Fatalf("ordinal %d: %+v %v %v", ord, p, ok, err)
				}
			}
			if p, ok, _ := l.FindTime(1050); !ok || p.BaseOffset != 230 { // batch 46 holds 1046..1050
				t.Fatalf("FindTime after rebuild: %+v", p)
			}
		})
	}
}

func TestStorageSealedSegmentCorruptionRefusesToOpen(t *testing.T) {
	dir := t.TempDir()
	o := testOptions()
	l, err := Open(dir, o, Env{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 1, 100, 5, 200)
	first := l.Segments()[0].Path
	l.Close()
	// A sealed segment is synced whole before the next one exists, so a
	// short one is damage, not a torn write: opening must not drop it.
	st, _ := os.Stat(first)
	if err := os.Truncate(first, st.Size()-100); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, o, Env{Logger: quiet()}); !errors.Is(err, ErrCorruptSegment) {
		t.Fatalf("got %v, want ErrCorruptSegment", err)
	}
}

func TestStorageRetention(t *testing.T) {
	dir := t.TempDir()
	o := testOptions()
	o.RetentionBytes = 150 << 10
	o.RetentionMs = -1
	l := openTest(t, dir, o)
	appendN(t, l, 1, 300, 5, 200) // ~330 KiB
	// Nothing goes above the high watermark.
	if n, _ := l.EnforceRetention(time.Now()); n != 0 {
		t.Fatalf("removed %d segments above the high watermark", n)
	}
	l.SetHighWatermark(l.EndOffset())
	n, err := l.EnforceRetention(time.Now())
	if err != nil || n == 0 {
		t.Fatalf("retention removed %d: %v", n, err)
	}
	if l.Size() > o.RetentionBytes+o.SegmentBytes {
		t.Fatalf("size %d still over", l.Size())
	}
	start := l.StartOffset()
	if start != l.Segments()[0].BaseOffset || start == 0 {
		t.Fatalf("start %d", start)
	}
	var s Slice
	if err := l.Read(0, 1<<62, 100, &s); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below start: %v", err)
	}
	// Time retention: every sealed segment is older than now - 1 ms.
	l.Close()
	o.RetentionBytes, o.RetentionMs = -1, 1
	l = openTest(t, dir, o)
	if l.StartOffset() != start {
		t.Fatalf("start after reopen %d, want %d", l.StartOffset(), start)
	}
	l.SetHighWatermark(l.EndOffset())
	n, _ = l.EnforceRetention(time.Now())
	if len(l.Segments()) != 1 || n == 0 {
		t.Fatalf("time retention left %d segments", len(l.Segments()))
	}
	// Ordinals survive the front being cut.
	if _, p, err := l.ReadOrdinal(299, nil); err != nil || p.BaseOffset != 1495 {
		t.Fatalf("ordinal after retention: %+v %v", p, err)
	}
}

func TestStorageDeleteRecords(t *testing.T) {
	dir := t.TempDir()
	o := testOptions()
	l, _ := Open(dir, o, Env{Logger: quiet()})
	appendN(t, l, 1, 100, 5, 200)
	if err := l.SetStartOffset(300); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("start past high watermark: %v", err)
	}
	l.SetHighWatermark(500)
	if err := l.SetStartOffset(302); err != nil {
		t.Fatal(err)
	}
	if l.Segments()[0].BaseOffset > 302 || l.StartOffset() != 302 {
		t.Fatalf("segments %+v start %d", l.Segments()[0], l.StartOffset())
	}
	l.Close()
	l = openTest(t, dir, o)
	if l.StartOffset() != 302 {
		t.Fatalf("start offset not durable: %d", l.StartOffset())
	}
	hs := readAll(t, l, 302)
	if len(hs) != 40 || hs[0].BaseOffset != 300 {
		t.Fatalf("read from start: %d batches, first %d", len(hs), hs[0].BaseOffset)
	}
}

func TestStorageTruncateSuffix(t *testing.T) {
	for _, at := range []int64{0, 5, 137 * 5, 199 * 5} {
		dir := t.TempDir()
		o := testOptions()
		l, _ := Open(dir, o, Env{Logger: quiet()})
		appendN(t, l, 1, 200, 5, 200)
		l.SetHighWatermark(1000)
		if err := l.TruncateSuffix(at + 1); !errors.Is(err, ErrNotBoundary) {
			t.Fatalf("truncate inside a batch: %v", err)
		}
		if err := l.TruncateSuffix(at); err != nil {
			t.Fatalf("truncate at %d: %v", at, err)
		}
		if l.EndOffset() != at || l.HighWatermark() != at || l.NextOrdinal() != at/5 {
			t.Fatalf("after truncate at %d: end %d hw %d ord %d", at, l.EndOffset(), l.HighWatermark(), l.NextOrdinal())
		}
		// A new term writes after the cut; reopen sees exactly that.
		appendN(t, l, 2, 3, 5, 200)
		l.Close()
		l = openTest(t, dir, o)
		hs := readAll(t, l, 0)
		if int64(len(hs)) != at/5+3 || l.EndOffset() != at+15 {
			t.Fatalf("at %d: %d batches end %d", at, len(hs), l.EndOffset())
		}
		if hs[len(hs)-1].LeaderEpoch != 2 {
			t.Fatalf("at %d: last epoch %d", at, hs[len(hs)-1].LeaderEpoch)
		}
	}
}

func TestStorageGroupCommit(t *testing.T) {
	l := openTest(t, t.TempDir(), testOptions())
	var wg sync.WaitGroup
	const writers, each = 16, 50
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := l.Append(1, batchtest.Values(1, 2, 100)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	st := l.Stats()
	if st.Appends != writers*each {
		t.Fatalf("appends %d", st.Appends)
	}
	// With 16 concurrent writers, fdatasyncs are shared: strictly fewer than
	// appends (each append waits for one sync that covers it).
	if st.Syncs >= st.Appends {
		t.Fatalf("no group commit: %d syncs for %d appends", st.Syncs, st.Appends)
	}
	if hs := readAll(t, l, 0); len(hs) != writers*each {
		t.Fatalf("%d batches", len(hs))
	}
}

func TestStorageWriteCachingFlushes(t *testing.T) {
	o := testOptions()
	o.WriteCaching = true
	o.FlushMs = 20
	o.FlushBytes = 1 << 30
	l := openTest(t, t.TempDir(), o)
	appendN(t, l, 1, 5, 1, 10)
	if l.Stats().Syncs != 0 {
		t.Fatal("write caching synced on append")
	}
	deadline := time.Now().Add(10 * time.Second)
	for !l.Durable() {
		if time.Now().After(deadline) {
			t.Fatal("flush.ms never flushed")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStorageDirectIO(t *testing.T) {
	dir := t.TempDir()
	o := testOptions()
	o.Direct = true
	l, err := Open(dir, o, Env{Logger: quiet()})
	if err != nil {
		t.Skipf("O_DIRECT unavailable here: %v", err)
	}
	// Odd sizes so writes straddle 4 KiB blocks.
	for i := 0; i < 120; i++ {
		if _, err := l.Append(1, batchtest.Values(int64(i), 1+i%7, 333+i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.TruncateSuffix(l.Segments()[len(l.Segments())-1].BaseOffset + 1); err != nil && !errors.Is(err, ErrNotBoundary) {
		t.Fatal(err)
	}
	want := readAll(t, l, 0)
	l.Close()
	o.Direct = false
	l = openTest(t, dir, o)
	got := readAll(t, l, 0)
	if len(got) != 120 || len(want) != 120 {
		t.Fatalf("direct: %d batches while open, %d after reopen", len(want), len(got))
	}
}

// TestStorageIndexNeverLeadsDurableData: the entries a group-commit sync
// writes to the index file stop at the data that sync made durable, so after
// a power loss no index entry can point past a lost page (recovery checks
// only the newest entry, so such an entry could hide a hole before it).
func TestStorageIndexNeverLeadsDurableData(t *testing.T) {
	dir := t.TempDir()
	o := testOptions()
	o.IndexIntervalBytes = 1 // an entry for every batch
	l := openTest(t, dir, o)
	appendN(t, l, 1, 3, 1, 10) // durable, indexed
	l.mu.Lock()
	a := l.active()
	durable := a.size
	l.mu.Unlock()
	// Written, not synced: what arrives while an fdatasync runs.
	for i := 0; i < 3; i++ {
		if _, _, err := l.Write(1, batchtest.Values(int64(i), 1, 10)); err != nil {
			t.Fatal(err)
		}
	}
	l.mu.Lock()
	if err := a.writePendingIndexBelow(durable); err != nil {
		t.Fatal(err)
	}
	written, total := a.idxWritten, len(a.idx)
	l.mu.Unlock()
	if written != 3 || total != 6 {
		t.Fatalf("index entries written %d of %d, want the 3 durable ones", written, total)
	}
	b, err := os.ReadFile(a.indexPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, es, err := decodeIndex(b, a.baseOffset); err != nil || len(es) != 3 || int64(es[2].pos) >= durable {
		t.Fatalf("index file holds %d entries (%v), last at %d; durable end %d", len(es), err, es[len(es)-1].pos, durable)
	}
}
