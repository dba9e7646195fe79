package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/batch/batchtest"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// mrec is one record as the tests model it.
type mrec struct {
	off        int64
	key, value []byte // nil: no key / tombstone
	ts         int64
	txn        bool
}

func (r mrec) String() string {
	v := "<nil>"
	if r.value != nil {
		v = string(r.value)
	}
	return fmt.Sprintf("%d:%s=%s", r.off, r.key, v)
}

// model is what a test appended, in offset order.
type model struct {
	mu   sync.Mutex
	recs []mrec
}

func put(k, v string) batchtest.Record { return batchtest.Record{Key: []byte(k), Value: []byte(v)} }
func del(k string) batchtest.Record    { return batchtest.Record{Key: []byte(k)} }

// add appends one batch of recs (compressed if comp is not nil) and records
// it. The caller moves the high watermark.
func (m *model) add(t testing.TB, l *Log, term int32, opt batchtest.Options, comp *batchtest.Compression, recs ...batchtest.Record) AppendResult {
	t.Helper()
	var b []byte
	if comp != nil {
		b = batchtest.BuildCompressed(opt, *comp, recs...)
	} else {
		b = batchtest.Build(opt, recs...)
	}
	res, err := l.Append(term, b)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if opt.Attributes&batch.AttrControl != 0 {
		return res
	}
	for i, r := range recs {
		m.recs = append(m.recs, mrec{off: res.BaseOffset + int64(i), key: r.Key, value: r.Value,
			ts: opt.FirstTimestamp + r.TsDelta, txn: opt.Attributes&batch.AttrTransactional != 0})
	}
	return res
}

// compacted is what a full pass must leave: below cleanEnd only the newest
// record of each key (records without a key, and transactional ones, stay);
// from cleanEnd on, everything. Tombstones are treated as values.
func (m *model) compacted(cleanEnd int64) []mrec {
	m.mu.Lock()
	defer m.mu.Unlock()
	newest := map[string]int64{}
	for _, r := range m.recs {
		if r.off < cleanEnd && r.key != nil && !r.txn {
			newest[string(r.key)] = r.off
		}
	}
	var out []mrec
	for _, r := range m.recs {
		if r.off >= cleanEnd || r.key == nil || r.txn || newest[string(r.key)] == r.off {
			out = append(out, r)
		}
	}
	return out
}

func compactOptions() Options {
	o := DefaultOptions()
	o.SegmentBytes = 4 << 10
	o.IndexIntervalBytes = 512
	o.PreallocBytes = 0
	o.RetentionMs = -1
	o.Compact = true
	o.DeleteRetentionMs = 1000
	return o
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openCompactLog(t *testing.T, dir string, o Options, env Env) *Log {
	t.Helper()
	if env.Logger == nil {
		env.Logger = discardLogger()
	}
	l, err := Open(dir, o, env)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// seal rolls the active segment (a term change) with one filler batch and
// commits everything.
func seal(t *testing.T, l *Log, m *model, term int32) {
	t.Helper()
	m.add(t, l, term, batchtest.Options{FirstTimestamp: 1}, nil, put("filler", "f"))
	l.SetHighWatermark(l.EndOffset())
}

// readBatches reads every batch from the log start to its end.
func readBatches(t testing.TB, l *Log) ([]batch.Header, [][]byte) {
	t.Helper()
	var hs []batch.Header
	var bs [][]byte
	var s Slice
	defer s.Release()
	from, end := l.StartOffset(), l.EndOffset()
	for from < end {
		if err := l.Read(from, 1<<62, 256<<10, &s); err != nil {
			t.Fatalf("read at %d: %v", from, err)
		}
		if s.Size == 0 {
			t.Fatalf("empty read at %d, end %d", from, end)
		}
		b, err := s.AppendTo(nil)
		if err != nil {
			t.Fatal(err)
		}
		for len(b) > 0 {
			h, err := batch.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := batch.Check(b[:h.Size()]); err != nil {
				t.Fatalf("read back a bad batch at %d: %v", h.BaseOffset, err)
			}
			hs = append(hs, h)
			bs = append(bs, b[:h.Size():h.Size()])
			b = b[h.Size():]
		}
		from = s.NextOffset
	}
	return hs, bs
}

// readRecords decodes every record of the log's non-control batches.
func readRecords(t testing.TB, l *Log) []mrec {
	t.Helper()
	_, bs := readBatches(t, l)
	var out []mrec
	var d batch.Decoder
	for _, b := range bs {
		h, it, err := d.Records(b)
		if err != nil {
			t.Fatalf("decode batch: %v", err)
		}
		if h.IsControl() {
			continue
		}
		for r, ok := it.Next(); ok; r, ok = it.Next() {
			out = append(out, mrec{off: h.BaseOffset + int64(r.OffsetDelta), key: bytes.Clone(r.Key),
				value: bytes.Clone(r.Value), ts: h.BaseTimestamp + r.TimestampDelta, txn: h.IsTransactional()})
		}
		if err := it.Err(); err != nil {
			t.Fatalf("decode batch at %d: %v", h.BaseOffset, err)
		}
	}
	return out
}

func sameRecs(t *testing.T, what string, got, want []mrec) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d\ngot  %v\nwant %v", what, len(got), len(want), got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.off != w.off || !bytes.Equal(g.key, w.key) || (g.key == nil) != (w.key == nil) ||
			!bytes.Equal(g.value, w.value) || (g.value == nil) != (w.value == nil) || g.ts != w.ts {
			t.Fatalf("%s: record %d is %v ts %d, want %v ts %d", what, i, g, g.ts, w, w.ts)
		}
	}
}

// kgoAgrees feeds the whole log to franz-go's consumer-side decoding, as a
// fetch response, and checks it sees the same records and moves past the
// log end (empty batches and offset gaps included).
func kgoAgrees(t *testing.T, l *Log) {
	t.Helper()
	_, bs := readBatches(t, l)
	want := readRecords(t, l)
	fp, next := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Topic: "t", Offset: l.StartOffset()},
		&kmsg.FetchResponseTopicPartition{RecordBatches: bytes.Join(bs, nil), HighWatermark: l.EndOffset()},
		kgo.DefaultDecompressor(), nil)
	if fp.Err != nil {
		t.Fatalf("kgo: %v", fp.Err)
	}
	if next != l.EndOffset() {
		t.Fatalf("kgo would fetch next from %d, log ends at %d", next, l.EndOffset())
	}
	var got []mrec
	for _, r := range fp.Records {
		got = append(got, mrec{off: r.Offset, key: r.Key, value: r.Value, ts: r.Timestamp.UnixMilli()})
	}
	if len(got) != len(want) {
		t.Fatalf("kgo sees %d records, we read %d", len(got), len(want))
	}
	for i := range got {
		// kgo does not tell a null key or value from an empty one.
		if got[i].off != want[i].off || !bytes.Equal(got[i].key, want[i].key) ||
			!bytes.Equal(got[i].value, want[i].value) || got[i].ts != want[i].ts {
			t.Fatalf("kgo record %d is %v ts %d, we read %v ts %d", i, got[i], got[i].ts, want[i], want[i].ts)
		}
	}
}

// ordinals maps every batch ordinal to its batch's offsets.
func ordinals(t *testing.T, l *Log) map[int64][2]int64 {
	t.Helper()
	out := map[int64][2]int64{}
	for ord := l.FirstOrdinal(); ord < l.NextOrdinal(); ord++ {
		b, p, err := l.ReadOrdinal(ord, nil)
		if err != nil {
			t.Fatalf("ordinal %d: %v", ord, err)
		}
		h, err := batch.Check(b)
		if err != nil || h.BaseOffset != p.BaseOffset {
			t.Fatalf("ordinal %d: %v %+v", ord, err, p)
		}
		out[ord] = [2]int64{p.BaseOffset, p.LastOffset}
	}
	return out
}

// sameShape checks what compaction may not change: segments, their offsets,
// batch counts and ordinals, max timestamps; sizes may only shrink.
func sameShape(t *testing.T, before, after []SegmentInfo) {
	t.Helper()
	if len(before) != len(after) {
		t.Fatalf("%d segments, had %d", len(after), len(before))
	}
	for i, b := range before {
		a := after[i]
		if a.BaseOffset != b.BaseOffset || a.NextOffset != b.NextOffset || a.Batches != b.Batches ||
			a.BaseOrdinal != b.BaseOrdinal || a.MaxTime != b.MaxTime || a.Term != b.Term || filepath.Base(a.Path) != filepath.Base(b.Path) || a.Size > b.Size {
			t.Fatalf("segment %d changed shape:\nbefore %+v\nafter  %+v", i, b, a)
		}
	}
}

func noTmpFiles(t *testing.T, dir string) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
	if len(m) > 0 {
		t.Fatalf("temporary files left: %v", m)
	}
}

// cleanableEnd is where a full pass's map ends: after the last sealed
// segment below the high watermark.
func cleanableEnd(l *Log) int64 {
	end := l.Segments()[0].BaseOffset
	for _, s := range l.Segments() {
		if !s.Sealed || s.NextOffset > l.HighWatermark() {
			break
		}
		end = s.NextOffset
	}
	return end
}

// fillOverwrites appends n batches of 3 records over nkeys keys, values
// about 60 bytes, some without a key.
func fillOverwrites(t *testing.T, l *Log, m *model, rng *rand.Rand, n, nkeys int, comp *batchtest.Compression) {
	t.Helper()
	for i := 0; i < n; i++ {
		recs := make([]batchtest.Record, 3)
		for j := range recs {
			k := fmt.Sprintf("k%02d", rng.IntN(nkeys))
			recs[j] = put(k, fmt.Sprintf("%s-%d-%d-%s", k, i, j, strings.Repeat("x", 50)))
			recs[j].TsDelta = int64(j)
			if rng.IntN(20) == 0 {
				recs[j].Key = nil
			}
		}
		m.add(t, l, 1, batchtest.Options{FirstTimestamp: int64(1_000_000 + i*10)}, comp, recs...)
	}
}

func TestStorageCompactKeepsNewestPerKey(t *testing.T) {
	dir := t.TempDir()
	l := openCompactLog(t, dir, compactOptions(), Env{})
	var m model
	fillOverwrites(t, l, &m, rand.New(rand.NewPCG(1, 2)), 200, 25, nil)
	seal(t, l, &m, 2)
	before := l.Segments()
	if len(before) < 5 {
		t.Fatalf("want several segments, have %d", len(before))
	}
	ords := ordinals(t, l)
	cleanEnd := cleanableEnd(l)
	all := len(m.recs)

	st, err := l.Compact(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := m.compacted(cleanEnd)
	if st.SegmentsRewritten == 0 || st.CleanEnd != cleanEnd || st.MapFull || st.Abandoned != 0 ||
		st.RecordsRemoved != int64(all-len(want)) || st.TombstonesRemoved != 0 || st.BytesAfter >= st.BytesBefore {
		t.Fatalf("stats %+v, want %d removed, clean end %d", st, all-len(want), cleanEnd)
	}
	sameRecs(t, "after compaction", readRecords(t, l), want)
	sameShape(t, before, l.Segments())
	if got := ordinals(t, l); fmt.Sprint(got) != fmt.Sprint(ords) {
		t.Fatal("batch ordinals moved")
	}
	kgoAgrees(t, l)
	noTmpFiles(t, dir)

	// Nothing new: the next pass does nothing.
	if st, err := l.Compact(context.Background(), time.Now()); err != nil || st.SegmentsRewritten != 0 {
		t.Fatalf("second pass: %+v %v", st, err)
	}
	// New overwrites in new segments supersede records in cleaned ones.
	fillOverwrites(t, l, &m, rand.New(rand.NewPCG(3, 4)), 60, 25, nil)
	seal(t, l, &m, 3)
	cleanEnd = cleanableEnd(l)
	if _, err := l.Compact(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	sameRecs(t, "after a second round", readRecords(t, l), m.compacted(cleanEnd))
	kgoAgrees(t, l)
}

func TestStorageCompactOnlyCommittedSealedSegments(t *testing.T) {
	o := compactOptions()
	o.Compact = false
	l := openCompactLog(t, t.TempDir(), o, Env{})
	var m model
	fillOverwrites(t, l, &m, rand.New(rand.NewPCG(5, 6)), 120, 10, nil)
	l.SetHighWatermark(l.EndOffset())
	if st, err := l.Compact(context.Background(), time.Now()); err != nil || st.SegmentsRewritten != 0 {
		t.Fatalf("compaction off: %+v %v", st, err)
	}
	sameRecs(t, "compaction off", readRecords(t, l), m.compacted(0))
	l.Close()

	o.Compact = true
	l = openCompactLog(t, l.Dir(), o, Env{})
	segs := l.Segments()
	// The high watermark inside the third segment: only the first two may
	// be compacted, and the active one never is.
	hw := segs[2].BaseOffset + 1
	l.SetHighWatermark(hw)
	st, err := l.Compact(context.Background(), time.Now())
	if err != nil || st.CleanEnd != segs[2].BaseOffset {
		t.Fatalf("%+v %v", st, err)
	}
	sameRecs(t, "below the high watermark", readRecords(t, l), m.compacted(segs[2].BaseOffset))
}

func TestStorageCompactTombstones(t *testing.T) {
	dir := t.TempDir()
	l := openCompactLog(t, dir, compactOptions(), Env{})
	var m model
	ts := batchtest.Options{FirstTimestamp: 5000}
	m.add(t, l, 1, ts, nil, put("k1", "a"), put("k2", "b"))
	m.add(t, l, 1, ts, nil, del("k1"), put("k3", "c"))
	m.add(t, l, 1, ts, nil, put("k4", "d"), del("k2"), put("k3", "e"))
	seal(t, l, &m, 2)
	before := l.Segments()
	ords := ordinals(t, l)

	t0 := time.UnixMilli(1_000_000)
	st, err := l.Compact(context.Background(), t0)
	if err != nil {
		t.Fatal(err)
	}
	// Superseded values go; the tombstones stay, with a delete horizon.
	if st.RecordsRemoved != 3 || st.TombstonesRemoved != 0 {
		t.Fatalf("first pass %+v", st)
	}
	want := m.compacted(cleanableEnd(l))
	sameRecs(t, "tombstones kept", readRecords(t, l), want)
	hs, _ := readBatches(t, l)
	for _, h := range hs[1:3] { // the batches holding the tombstones
		if h.Attributes&batch.AttrDeleteHorizon == 0 || h.BaseTimestamp != t0.UnixMilli()+1000 {
			t.Fatalf("batch at %d: attributes %x base timestamp %d, want the horizon %d", h.BaseOffset, h.Attributes, h.BaseTimestamp, t0.UnixMilli()+1000)
		}
	}
	kgoAgrees(t, l) // record timestamps unchanged under the horizon

	// Up to the horizon they stay.
	for _, now := range []time.Time{t0.Add(500 * time.Millisecond), t0.Add(time.Second)} {
		if st, err := l.Compact(context.Background(), now); err != nil || st.RecordsRemoved != 0 {
			t.Fatalf("before the horizon: %+v %v", st, err)
		}
		sameRecs(t, "before the horizon", readRecords(t, l), want)
	}

	// Past it they go; their batches stay, empty if nothing else is left.
	st, err = l.Compact(context.Background(), t0.Add(time.Second+time.Millisecond))
	if err != nil || st.RecordsRemoved != 2 || st.TombstonesRemoved != 2 {
		t.Fatalf("past the horizon: %+v %v", st, err)
	}
	var left []mrec
	for _, r := range want {
		if r.value != nil {
			left = append(left, r)
		}
	}
	sameRecs(t, "tombstones dropped", readRecords(t, l), left)
	sameShape(t, before, l.Segments())
	if got := ordinals(t, l); fmt.Sprint(got) != fmt.Sprint(ords) {
		t.Fatal("batch ordinals moved")
	}
	hs, _ = readBatches(t, l)
	if h := hs[1]; h.NumRecords != 0 || h.BaseOffset != 2 || h.LastOffsetDelta != 1 || h.Compression() != 0 ||
		h.Attributes&batch.AttrDeleteHorizon != 0 || h.Size() != batch.HeaderSize {
		t.Fatalf("emptied batch %+v", h)
	}
	if h := hs[2]; h.NumRecords != 2 || h.Attributes&batch.AttrDeleteHorizon != 0 || h.BaseTimestamp != 5000 {
		t.Fatalf("batch that lost its tombstone %+v", h)
	}
	kgoAgrees(t, l)
	noTmpFiles(t, dir)
}

func TestStorageCompactCompressedBatches(t *testing.T) {
	for _, c := range batchtest.Compressions {
		t.Run(c.String(), func(t *testing.T) {
			dir := t.TempDir()
			l := openCompactLog(t, dir, compactOptions(), Env{})
			var m model
			// Few batches: lz4 is slow under the race detector.
			fillOverwrites(t, l, &m, rand.New(rand.NewPCG(7, 8)), 60, 8, &c)
			// A batch all of whose records are superseded, and tombstones.
			m.add(t, l, 1, batchtest.Options{FirstTimestamp: 7}, &c, put("gone", "1"), put("gone", "2"), del("k03"))
			m.add(t, l, 1, batchtest.Options{FirstTimestamp: 8}, &c, put("gone", "3"), put("k03", "back"))
			seal(t, l, &m, 2)
			before := l.Segments()
			if len(before) < 3 {
				t.Fatalf("want several segments, have %d", len(before))
			}
			if _, err := l.Compact(context.Background(), time.UnixMilli(10_000)); err != nil {
				t.Fatal(err)
			}
			sameRecs(t, "compressed", readRecords(t, l), m.compacted(cleanableEnd(l)))
			sameShape(t, before, l.Segments())
			kgoAgrees(t, l)
			hs, bs := readBatches(t, l)
			for i, h := range hs {
				if h.BaseOffset >= cleanableEnd(l) {
					break
				}
				switch {
				case h.NumRecords == 0 && h.Compression() != 0:
					t.Fatalf("empty batch at %d is compressed", h.BaseOffset)
				case h.NumRecords > 0 && h.Compression() != c.Codec():
					t.Fatalf("batch at %d recompressed with codec %d", h.BaseOffset, h.Compression())
				case h.NumRecords > 0 && batch.IsXerial(bs[i][batch.HeaderSize:]) != (c == batchtest.SnappyXerial):
					t.Fatalf("batch at %d changed its snappy framing", h.BaseOffset)
				}
			}
		})
	}
}

func TestStorageCompactKeepsTransactionsAndControl(t *testing.T) {
	l := openCompactLog(t, t.TempDir(), compactOptions(), Env{})
	var m model
	plain := batchtest.Options{FirstTimestamp: 100}
	txn := batchtest.Options{FirstTimestamp: 100, ProducerID: 7, Attributes: batch.AttrTransactional}
	ctl := batchtest.Options{FirstTimestamp: 100, ProducerID: 7, Attributes: batch.AttrTransactional | batch.AttrControl}
	m.add(t, l, 1, plain, nil, put("k1", "a"))                                                           // 0: superseded by the tombstone
	m.add(t, l, 1, txn, nil, put("k1", "t"), put("k4", "q"))                                             // 1-2: kept as is
	m.add(t, l, 1, ctl, nil, batchtest.Record{Key: []byte{0, 0, 0, 1}, Value: []byte{0, 0, 0, 0, 0, 0}}) // 3: commit marker
	m.add(t, l, 1, plain, nil, del("k1"), put("k2", "x"), put("k2", "y"))                                // 4-6
	m.add(t, l, 1, plain, nil, put("k3", "z"), del("k3"), put("k4", "p"))                                // 7-9
	m.add(t, l, 1, txn, nil, put("k2", "t2"))                                                            // 10: does not supersede k2=y
	seal(t, l, &m, 2)
	_, bsBefore := readBatches(t, l)

	t0 := time.UnixMilli(1_000_000)
	if _, err := l.Compact(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	want := m.compacted(cleanableEnd(l))
	sameRecs(t, "transactions kept", readRecords(t, l), want)
	_, bs := readBatches(t, l)
	for _, i := range []int{1, 2, 5} {
		if !bytes.Equal(bs[i], bsBefore[i]) {
			t.Fatalf("transactional or control batch %d rewritten", i)
		}
	}
	// Past the horizon, k3's tombstone goes but k1's stays: dropping it
	// would bring back the transactional k1=t before it.
	st, err := l.Compact(context.Background(), t0.Add(time.Hour))
	if err != nil || st.TombstonesRemoved != 1 {
		t.Fatalf("past the horizon: %+v %v", st, err)
	}
	var left []mrec
	for _, r := range want {
		if r.value != nil || string(r.key) == "k1" {
			left = append(left, r)
		}
	}
	sameRecs(t, "transactional key pins its tombstone", readRecords(t, l), left)
	kgoAgrees(t, l)
	// The pinned tombstone does not make every later pass start over.
	l.compaction.mu.Lock()
	next := l.compaction.nextExpiry
	l.compaction.mu.Unlock()
	if next != nextExpiryNone {
		t.Fatalf("a pinned tombstone keeps passes busy: next expiry %d", next)
	}
}

func TestStorageCompactMapCapacity(t *testing.T) {
	// 64 slots: the map holds 48 keys, far fewer than the log has.
	l := openCompactLog(t, t.TempDir(), compactOptions(), Env{CompactionMapBytes: 64 * keySlotSize})
	var m model
	for round := 0; round < 2; round++ {
		for i := 0; i < 150; i += 5 {
			var recs []batchtest.Record
			for j := i; j < i+5; j++ {
				k := fmt.Sprintf("k%03d", j)
				recs = append(recs, put(k, fmt.Sprintf("%s-r%d-%s", k, round, strings.Repeat("y", 40))))
			}
			m.add(t, l, 1, batchtest.Options{FirstTimestamp: 1}, nil, recs...)
		}
	}
	seal(t, l, &m, 2)
	end := cleanableEnd(l)
	before := l.Segments()
	var last int64 = -1
	for pass := 0; ; pass++ {
		if pass > 30 {
			t.Fatal("compaction does not converge")
		}
		st, err := l.Compact(context.Background(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if st.CleanEnd <= last && st.MapFull {
			t.Fatalf("pass %d made no progress: %+v", pass, st)
		}
		last = st.CleanEnd
		// Every pass is correct on its own: what goes always has a newer
		// record of its key, and the newest of each key is there.
		got := readRecords(t, l)
		newest := map[string]int64{}
		for _, r := range m.recs {
			newest[string(r.key)] = r.off
		}
		seen := map[string]bool{}
		for _, r := range got {
			if newest[string(r.key)] == r.off {
				seen[string(r.key)] = true
			}
		}
		if len(seen) != len(newest) {
			t.Fatalf("pass %d lost the newest record of %d keys", pass, len(newest)-len(seen))
		}
		if pass == 0 && !st.MapFull {
			t.Fatalf("first pass did not fill the map: %+v", st)
		}
		if !st.MapFull {
			break
		}
	}
	if last != end {
		t.Fatalf("clean end %d, want %d", last, end)
	}
	sameRecs(t, "after enough passes", readRecords(t, l), m.compacted(end))
	sameShape(t, before, l.Segments())
}

func TestStorageCompactConcurrentWithReadsAndAppends(t *testing.T) {
	dir := t.TempDir()
	l := openCompactLog(t, dir, compactOptions(), Env{})
	var m model
	byOff := func() map[int64]mrec {
		m.mu.Lock()
		defer m.mu.Unlock()
		out := make(map[int64]mrec, len(m.recs))
		for _, r := range m.recs {
			out[r.off] = r
		}
		return out
	}
	var done atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}

	// Readers: from the start to the high watermark, never a short read,
	// every record one that was written at that offset.
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s Slice
			defer s.Release()
			var d batch.Decoder
			for !done.Load() {
				hw := l.HighWatermark()
				written := byOff()
				from := l.StartOffset()
				for from < hw {
					if err := l.Read(from, hw, 32<<10, &s); err != nil {
						report(fmt.Errorf("read at %d: %w", from, err))
						return
					}
					if s.Size == 0 {
						report(fmt.Errorf("short read at %d below the high watermark %d", from, hw))
						return
					}
					b, err := s.AppendTo(nil)
					if err != nil {
						report(err)
						return
					}
					for len(b) > 0 {
						h, _ := batch.Parse(b)
						_, it, err := d.Records(b[:h.Size()])
						if err != nil {
							report(fmt.Errorf("batch at %d: %w", h.BaseOffset, err))
							return
						}
						for rec, ok := it.Next(); ok; rec, ok = it.Next() {
							off := h.BaseOffset + int64(rec.OffsetDelta)
							w, ok := written[off]
							if !ok || !bytes.Equal(w.key, rec.Key) || !bytes.Equal(w.value, rec.Value) {
								report(fmt.Errorf("record at %d is %q=%q, written %v", off, rec.Key, rec.Value, w))
								return
							}
						}
						b = b[h.Size():]
					}
					from = s.NextOffset
				}
			}
		}()
	}
	// Compactor.
	var rewritten atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !done.Load() {
			st, err := l.Compact(context.Background(), time.Now())
			if err != nil {
				report(fmt.Errorf("compact: %w", err))
				return
			}
			rewritten.Add(int64(st.SegmentsRewritten))
		}
	}()
	// Appender, in the test goroutine: it owns the model and the watermark.
	rng := rand.New(rand.NewPCG(9, 10))
	for i := 0; i < 600; i++ {
		k := fmt.Sprintf("k%02d", rng.IntN(30))
		m.add(t, l, 1, batchtest.Options{FirstTimestamp: int64(i)}, nil,
			put(k, fmt.Sprintf("%s-%d-%s", k, i, strings.Repeat("z", 80))), put("hot", fmt.Sprint(i)))
		l.SetHighWatermark(l.EndOffset())
		if i%100 == 99 {
			time.Sleep(10 * time.Millisecond) // let passes overlap the appends
		}
	}
	seal(t, l, &m, 2)
	deadline := time.Now().Add(10 * time.Second)
	for rewritten.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	done.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if rewritten.Load() == 0 {
		t.Fatal("no segment was compacted while appending")
	}
	if _, err := l.Compact(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	sameRecs(t, "after concurrent compaction", readRecords(t, l), m.compacted(cleanableEnd(l)))
	kgoAgrees(t, l)
	noTmpFiles(t, dir)
}

func TestStorageCompactReopen(t *testing.T) {
	dir := t.TempDir()
	o := compactOptions()
	l, err := Open(dir, o, Env{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	var m model
	fillOverwrites(t, l, &m, rand.New(rand.NewPCG(11, 12)), 200, 20, nil)
	seal(t, l, &m, 2)
	if _, err := l.Compact(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	segs := l.Segments()
	want := readRecords(t, l)
	ords := ordinals(t, l)
	l.mu.Lock()
	idx := map[string][]indexEntry{}
	for _, s := range l.segs {
		idx[s.path] = append([]indexEntry(nil), s.idx...)
	}
	l.mu.Unlock()
	p, _, err := l.FindTime(1_000_000 + 1000)
	if err != nil {
		t.Fatal(err)
	}
	l.compaction.mu.Lock()
	cleanEnd, doneEnd := l.compaction.cleanEnd, l.compaction.doneEnd
	l.compaction.mu.Unlock()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// The index files on disk are the compacted segments' indexes.
	for _, s := range segs[:len(segs)-1] {
		b, err := os.ReadFile(strings.TrimSuffix(s.Path, ".log") + ".index")
		if err != nil {
			t.Fatal(err)
		}
		ord, es, err := decodeIndex(b, s.BaseOffset)
		if err != nil || ord != s.BaseOrdinal || fmt.Sprint(es) != fmt.Sprint(idx[s.Path]) {
			t.Fatalf("index of %s on disk: %v, ordinal %d, %d entries vs %d", s.Path, err, ord, len(es), len(idx[s.Path]))
		}
	}

	l = openCompactLog(t, dir, o, Env{})
	if got := l.Segments(); fmt.Sprint(got) != fmt.Sprint(segs) {
		t.Fatalf("segments after reopen\n%+v\nwant\n%+v", got, segs)
	}
	l.mu.Lock()
	for _, s := range l.segs[:len(l.segs)-1] {
		if fmt.Sprint(s.idx) != fmt.Sprint(idx[s.path]) {
			t.Errorf("index of %s rebuilt differently", s.path)
		}
	}
	l.mu.Unlock()
	sameRecs(t, "after reopen", readRecords(t, l), want)
	if got := ordinals(t, l); fmt.Sprint(got) != fmt.Sprint(ords) {
		t.Fatal("ordinals moved across reopen")
	}
	if q, _, err := l.FindTime(1_000_000 + 1000); err != nil || q != p {
		t.Fatalf("FindTime after reopen %+v, before %+v (%v)", q, p, err)
	}
	r, err := l.Append(2, batchtest.Build(batchtest.Options{}, put("after", "reopen")))
	if err != nil || r.FirstOrdinal != int64(len(ords)) {
		t.Fatalf("append after reopen %+v %v", r, err)
	}
	// The reopened log resumes where the last pass left off (compact.ckpt):
	// with nothing new sealed, a pass has nothing to do.
	l.compaction.mu.Lock()
	gotClean, gotDone, gotDoneEnd := l.compaction.cleanEnd, l.compaction.done, l.compaction.doneEnd
	l.compaction.mu.Unlock()
	if gotClean != cleanEnd || gotDoneEnd != doneEnd || !gotDone || cleanEnd == 0 {
		t.Fatalf("compaction state after reopen: clean end %d, done %v to %d; before close %d, done to %d", gotClean, gotDone, gotDoneEnd, cleanEnd, doneEnd)
	}
	l.SetHighWatermark(l.EndOffset())
	if st, err := l.Compact(context.Background(), time.Now()); err != nil || st.RecordsRemoved != 0 || st.CleanEnd != cleanEnd {
		t.Fatalf("pass after reopen %+v %v", st, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// A damaged checkpoint is only a hint lost: the log opens, and the
	// next pass starts from the log start and finds nothing to remove.
	if err := os.WriteFile(filepath.Join(dir, compactCheckpointName), []byte("ACC1 damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	l = openCompactLog(t, dir, o, Env{})
	if l.compaction.cleanEnd != 0 || l.compaction.done {
		t.Fatalf("damaged checkpoint used: clean end %d, done %v", l.compaction.cleanEnd, l.compaction.done)
	}
	sameRecs(t, "after a damaged checkpoint", readRecords(t, l)[:len(want)], want)
	l.SetHighWatermark(l.EndOffset())
	if st, err := l.Compact(context.Background(), time.Now()); err != nil || st.RecordsRemoved != 0 || st.CleanEnd != cleanEnd {
		t.Fatalf("pass after a damaged checkpoint %+v %v", st, err)
	}
}

// hookFS is the OS filesystem with hooks on renames and file creation.
type hookFS struct {
	FS
	onRename func(oldname, newname string) error
	onCreate func(name string)
}

func (h *hookFS) Rename(o, n string) error {
	if h.onRename != nil {
		if err := h.onRename(o, n); err != nil {
			return err
		}
	}
	return h.FS.Rename(o, n)
}

func (h *hookFS) OpenFile(name string, flag int, perm os.FileMode, direct bool) (File, error) {
	if h.onCreate != nil && flag&os.O_CREATE != 0 {
		h.onCreate(name)
	}
	return h.FS.OpenFile(name, flag, perm, direct)
}

// copyDir copies dir's files: what a crash at this moment would leave
// (everything was synced).
func copyDir(t *testing.T, dir, to string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStorageCompactCrashMidSwap(t *testing.T) {
	errCrash := errors.New("injected crash")
	for _, at := range []string{".log" + compactedSuffix, ".index" + compactedSuffix} {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(at, "."), compactedSuffix), func(t *testing.T) {
			dir, image := t.TempDir(), t.TempDir()
			fsys := &hookFS{FS: OS}
			fsys.onRename = func(o, n string) error {
				if strings.HasSuffix(o, at) {
					fsys.onRename = nil
					copyDir(t, dir, image)
					return errCrash
				}
				return nil
			}
			o := compactOptions()
			l := openCompactLog(t, dir, o, Env{FS: fsys})
			var m model
			fillOverwrites(t, l, &m, rand.New(rand.NewPCG(13, 14)), 150, 10, nil)
			seal(t, l, &m, 2)
			original := readRecords(t, l)
			before := l.Segments()
			// A failed data rename fails the pass; a failed index rename
			// only leaves the index to be rebuilt on open.
			_, err := l.Compact(context.Background(), time.Now())
			if dataRename := at == ".log"+compactedSuffix; dataRename != errors.Is(err, errCrash) || (!dataRename && err != nil) {
				t.Fatalf("compact: %v", err)
			}
			leftovers, _ := filepath.Glob(filepath.Join(image, "*"+compactedSuffix))
			if len(leftovers) == 0 {
				t.Fatal("the crash image has no compaction leftovers")
			}

			// The crashed log recovers: before the data rename to the
			// uncompacted segment, after it to the compacted one with its
			// index rebuilt. Either way nothing is lost and shapes hold.
			c := openCompactLog(t, image, o, Env{})
			noTmpFiles(t, image)
			got := readRecords(t, c)
			if at == ".log"+compactedSuffix {
				sameRecs(t, "recovered before the swap", got, original)
			} else if len(got) >= len(original) {
				t.Fatalf("recovered after the swap with %d records, had %d", len(got), len(original))
			}
			sameShape(t, before, c.Segments())
			newest := map[string]int64{}
			for _, r := range m.recs {
				newest[string(r.key)] = r.off
			}
			n := 0
			for _, r := range got {
				if newest[string(r.key)] == r.off {
					n++
				}
			}
			if n != len(newest) {
				t.Fatal("recovered log lost the newest record of a key")
			}
			kgoAgrees(t, c)

			// The live log went on; a later pass completes and it reopens.
			if _, err := l.Compact(context.Background(), time.Now()); err != nil {
				t.Fatal(err)
			}
			want := m.compacted(cleanableEnd(l))
			sameRecs(t, "live log", readRecords(t, l), want)
			noTmpFiles(t, dir)
			l.Close()
			l = openCompactLog(t, dir, o, Env{})
			sameRecs(t, "live log reopened", readRecords(t, l), want)
		})
	}
}

func TestStorageCompactAbandonsChangedSegment(t *testing.T) {
	for _, change := range []string{"retention", "truncation"} {
		t.Run(change, func(t *testing.T) {
			dir := t.TempDir()
			fsys := &hookFS{FS: OS}
			o := compactOptions()
			l := openCompactLog(t, dir, o, Env{FS: fsys})
			var m model
			fillOverwrites(t, l, &m, rand.New(rand.NewPCG(15, 16)), 150, 10, nil)
			seal(t, l, &m, 2)
			segs := l.Segments()
			var victim SegmentInfo
			fsys.onCreate = func(name string) {
				if !strings.HasSuffix(name, ".log"+compactedSuffix) {
					return
				}
				fsys.onCreate = nil
				// The rewrite runs without the log's lock: appends and
				// reads go on, and the segment can change under it.
				if !l.mu.TryLock() {
					t.Error("log lock held while rewriting")
				} else {
					l.mu.Unlock()
				}
				for _, s := range segs {
					if s.Path+compactedSuffix == name {
						victim = s
					}
				}
				switch change {
				case "retention":
					if err := l.SetStartOffset(victim.NextOffset); err != nil {
						t.Error(err)
					}
				case "truncation":
					if err := l.TruncateSuffix(victim.BaseOffset); err != nil {
						t.Error(err)
					}
				}
				m.add(t, l, 3, batchtest.Options{FirstTimestamp: 1}, nil, put("during", "rewrite"))
			}
			st, err := l.Compact(context.Background(), time.Now())
			// Truncation also removes the later segments: their rewrites
			// are abandoned too.
			if err != nil || st.Abandoned < 1 || (change == "retention" && st.Abandoned != 1) {
				t.Fatalf("%+v %v", st, err)
			}
			if victim.Path == "" {
				t.Fatal("no rewrite started")
			}
			noTmpFiles(t, dir)
			for _, s := range l.Segments() {
				if s.BaseOffset == victim.BaseOffset && s.Sealed {
					t.Fatalf("changed segment was swapped back in: %+v", s)
				}
			}
			if change == "retention" {
				if _, err := os.Stat(victim.Path); !os.IsNotExist(err) {
					t.Fatalf("removed segment's file is back: %v", err)
				}
			}
			// Whatever is left reads back as written, and reopens.
			l.SetHighWatermark(l.EndOffset())
			got := readRecords(t, l)
			written := map[int64]mrec{}
			for _, r := range m.recs {
				written[r.off] = r
			}
			for _, r := range got {
				if w := written[r.off]; !bytes.Equal(w.key, r.key) || !bytes.Equal(w.value, r.value) {
					t.Fatalf("record %v, written %v", r, w)
				}
			}
			l.Close()
			l = openCompactLog(t, dir, o, Env{})
			sameRecs(t, "reopened", readRecords(t, l), got)
		})
	}
}
