package storage_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/batch/batchtest"
	"github.com/ailurus/ailurus/internal/storage"
	"github.com/ailurus/ailurus/internal/storage/faultfs"
)

// TestStorageFaultWriteCachingCrash crashes between write and fsync: with
// write caching an append is acknowledged from the page cache, so a crash may
// take it, but the log must come back as a prefix of what was appended, every
// batch whole, and with everything a Flush covered.
func TestStorageFaultWriteCachingCrash(t *testing.T) {
	o := faultOptions()
	o.WriteCaching = true
	o.FlushMs = 3_600_000 // no flush but the test's own
	o.FlushBytes = 1 << 30
	for seed := uint64(0); seed < 24; seed++ {
		rng := rand.New(rand.NewPCG(seed, 3))
		fsys := faultfs.New()
		l := mustOpenOn(t, fsys, o)
		var appended [][]byte
		var flushedEnd int64
		for i := 0; i < 40; i++ {
			b := uniqueBatch(i, 200+rng.IntN(900))
			if _, err := l.Append(1, b); err != nil {
				t.Fatal(err)
			}
			appended = append(appended, b)
			if rng.IntN(8) == 0 {
				if err := l.Flush(); err != nil {
					t.Fatal(err)
				}
				flushedEnd = l.EndOffset()
			}
		}
		if l.Durable() && flushedEnd != l.EndOffset() {
			t.Fatal("the log synced on its own with flush.ms an hour away")
		}
		segs := l.Segments()
		// Sealing a segment syncs it; the rest of the active one is in the
		// page cache only.
		durableEnd := max(flushedEnd, segs[len(segs)-1].BaseOffset)
		torn := seed%2 == 1
		var img *faultfs.FS
		if torn {
			img = fsys.CrashTorn(rng)
		} else {
			img = fsys.Crash()
		}
		l2, err := openOn(img, faultLogDir, o)
		if err != nil {
			t.Fatalf("seed %d: reopen: %v", seed, err)
		}
		bs, err := readBatches(l2)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if len(bs) > len(appended) {
			t.Fatalf("seed %d: %d batches, only %d appended", seed, len(bs), len(appended))
		}
		for i, b := range bs {
			if !bytes.Equal(b, appended[i]) {
				t.Fatalf("seed %d: batch %d is not what was appended", seed, i)
			}
		}
		end := l2.EndOffset()
		if end < durableEnd || (!torn && end != durableEnd) {
			t.Fatalf("seed %d (torn %v): log ends at %d, want %s %d", seed, torn, end, map[bool]string{true: "at least", false: "exactly"}[torn], durableEnd)
		}
		if _, err := l2.Append(2, uniqueBatch(100, 300)); err != nil {
			t.Fatalf("seed %d: append after recovery: %v", seed, err)
		}
		l2.Close()
	}
}

// TestStorageFaultConcurrentCrashPoints appends from several goroutines in
// the durable mode and takes crash images (Crash and CrashTorn) at random
// filesystem operations while they run. Each image must hold every append
// that had returned before it was taken, byte for byte, serve nothing torn,
// and take appends again.
func TestStorageFaultConcurrentCrashPoints(t *testing.T) {
	o := faultOptions()
	o.SegmentBytes = 16 << 10
	o.PreallocBytes = 4 << 10
	fsys := faultfs.New()
	l := mustOpenOn(t, fsys, o)

	const writers, each = 4, 60
	batches := make([][]byte, writers*each)
	for i := range batches {
		batches[i] = uniqueBatch(i, 100+(i*7919)%2500)
	}
	var amu sync.Mutex
	var acked [][]byte // in the order the appends returned

	type snapshot struct {
		img   *faultfs.FS
		acked int // appends returned when it was taken
	}
	var smu sync.Mutex
	var snaps []snapshot
	rng := rand.New(rand.NewPCG(5, 5))
	next := int64(20)
	fsys.SetHook(func(op faultfs.Op) error {
		smu.Lock()
		defer smu.Unlock()
		if op.Seq < next || len(snaps) == 24 {
			return nil
		}
		next = op.Seq + 3 + rng.Int64N(30)
		amu.Lock()
		defer amu.Unlock()
		img := fsys.Crash()
		if len(snaps)%2 == 1 {
			img = fsys.CrashTorn(rng)
		}
		snaps = append(snaps, snapshot{img, len(acked)})
		return nil
	})
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(batches); i += writers {
				if _, err := l.Append(1, batches[i]); err != nil {
					t.Error(err)
					return
				}
				amu.Lock()
				acked = append(acked, batches[i])
				amu.Unlock()
			}
		}()
	}
	wg.Wait()
	fsys.SetHook(nil)
	if t.Failed() {
		return
	}
	if len(snaps) < 10 {
		t.Fatalf("only %d crash images taken", len(snaps))
	}
	allowed := map[string][]byte{}
	for _, b := range batches { // each now holds the offset the log gave it
		allowed[identity(b)] = b
	}
	for i, s := range snaps {
		m := newModel()
		m.allowed = allowed
		for _, b := range acked[:s.acked] {
			h, _ := batch.Parse(b)
			m.must[h.BaseOffset] = b
		}
		if err := verifyImage(s.img, o, m); err != nil {
			t.Fatalf("image %d (after %d of %d appends): %v", i, s.acked, len(batches), err)
		}
	}
}

// TestStorageFaultFailedSync fails the fdatasync of an append. The append
// fails with ErrFailed, the log refuses appends until reopened and still
// serves what it acknowledged. After a reopen, with or without a crash, the
// acknowledged batches are there and the failed one is absent or whole; and
// what is acknowledged after that reopen survives a crash, although the
// failed fsync dropped dirty pages the page cache still serves.
func TestStorageFaultFailedSync(t *testing.T) {
	for _, tc := range []struct {
		name         string
		segmentBytes int64
		crash        bool
	}{
		// The group commit's fdatasync fails.
		{"commit", 64 << 10, false},
		{"commit+crash", 64 << 10, true},
		// The big batch rolls the log: the fdatasync sealing it fails.
		{"seal", 4 << 10, false},
		{"seal+crash", 4 << 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := faultfs.New()
			o := faultOptions()
			o.SegmentBytes = tc.segmentBytes
			d := newDriver(fsys, o)
			if err := d.open(); err != nil {
				t.Fatal(err)
			}
			if err := d.appendN(1, 8); err != nil {
				t.Fatal(err)
			}
			// A batch over several pages, so that losing them matters.
			b := uniqueBatch(5000, 10<<10)
			batch.SetBaseOffset(b, d.l.EndOffset())
			batch.SetLeaderEpoch(b, 1)
			d.m.allowed[identity(b)] = bytes.Clone(b)
			fsys.FailNextSync(syscall.EIO)
			_, err := d.l.Append(1, b)
			if !errors.Is(err, storage.ErrFailed) || !errors.Is(err, syscall.EIO) {
				t.Fatalf("append with a failing fsync: %v, want ErrFailed wrapping EIO", err)
			}
			if _, err := d.l.Append(1, uniqueBatch(5001, 100)); !errors.Is(err, storage.ErrFailed) {
				t.Fatalf("append after a failed fsync: %v", err)
			}
			if err := d.snapshot().check(d.l); err != nil {
				t.Fatalf("the failed log: %v", err)
			}
			d.l.Close()
			if tc.crash {
				d.fsys = fsys.Crash()
			}
			if err := d.open(); err != nil {
				t.Fatal(err)
			}
			if err := d.settle(); err != nil {
				t.Fatalf("after reopen: %v", err)
			}
			if err := d.appendN(2, 6); err != nil {
				t.Fatal(err)
			}
			d.l.Close()
			if err := verifyImage(d.fsys.Crash(), d.opts, d.snapshot()); err != nil {
				t.Fatalf("appends after the reopen, then a crash: %v", err)
			}
		})
	}
}

// TestStorageFaultENOSPC runs out of space at every point of an append
// stream in turn: in a batch write, in a preallocation, in a roll. The error
// comes back (no panic), the log fails safe and keeps serving what it
// acknowledged, and once space is back a reopen holds every acknowledged
// batch and appends again, durably.
func TestStorageFaultENOSPC(t *testing.T) {
	where := map[string]int{}
	for budget := int64(0); budget < 20<<10; budget += 97 {
		o := faultOptions()
		if budget%2 == 1 {
			o.PreallocBytes = 0 // batch writes grow the file
		}
		fsys := faultfs.New()
		d := newDriver(fsys, o)
		if err := d.open(); err != nil {
			t.Fatal(err)
		}
		if err := d.appendN(1, 4); err != nil {
			t.Fatal(err)
		}
		fsys.ENOSPCAfter(budget)
		var err error
		for i := 0; i < 100 && err == nil; i++ {
			err = d.append(1, 1)
		}
		if !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, storage.ErrFailed) {
			t.Fatalf("budget %d: %v, want ErrFailed wrapping ENOSPC", budget, err)
		}
		for _, w := range []string{"fallocate", "index", "write"} {
			if strings.Contains(err.Error(), w) {
				where[w]++
				break
			}
		}
		if _, err := d.l.Append(1, uniqueBatch(1<<21, 100)); !errors.Is(err, storage.ErrFailed) {
			t.Fatalf("budget %d: append after ENOSPC: %v", budget, err)
		}
		if err := d.snapshot().check(d.l); err != nil {
			t.Fatalf("budget %d: reads from the full log: %v", budget, err)
		}
		d.l.Close()
		// Still full: opening may fail (recovery writes the active index),
		// but must not serve anything wrong.
		if l, err := openOn(fsys, faultLogDir, d.opts); err == nil {
			if err := d.snapshot().check(l); err != nil {
				t.Fatalf("budget %d: reopened while full: %v", budget, err)
			}
			l.Close()
		}
		fsys.ClearFaults()
		if err := d.open(); err != nil {
			t.Fatalf("budget %d: reopen with space: %v", budget, err)
		}
		if err := d.settle(); err != nil {
			t.Fatalf("budget %d: after reopen: %v", budget, err)
		}
		if err := d.appendN(2, 3); err != nil {
			t.Fatalf("budget %d: append after reopen: %v", budget, err)
		}
		d.l.Close()
		if err := verifyImage(fsys.Crash(), d.opts, d.snapshot()); err != nil {
			t.Fatalf("budget %d: after reopen, appends and a crash: %v", budget, err)
		}
	}
	if where["fallocate"] == 0 || where["write"] == 0 || where["index"] == 0 {
		t.Fatalf("ENOSPC did not hit preallocation, batch writes and rolls alike: %v", where)
	}
}

// TestStorageFaultTornWrite cuts a batch write short (some bytes reach the
// file, then EIO). The append fails, the log refuses appends until
// reopened, and the reopen cuts the torn tail, buffered and with O_DIRECT.
func TestStorageFaultTornWrite(t *testing.T) {
	for _, direct := range []bool{false, true} {
		for _, n := range []int{0, 1, 12, 61, 500, 1 << 20} {
			t.Run(fmt.Sprintf("direct=%v/n=%d", direct, n), func(t *testing.T) {
				o := faultOptions()
				o.SegmentBytes = 1 << 20 // no roll: the next write is the batch
				o.Direct = direct
				fsys := faultfs.New()
				d := newDriver(fsys, o)
				if err := d.open(); err != nil {
					t.Fatal(err)
				}
				if err := d.appendN(1, 6); err != nil {
					t.Fatal(err)
				}
				end := d.l.EndOffset()
				fsys.TearNextWrite(n)
				if err := d.append(1, 1); !errors.Is(err, storage.ErrFailed) || !errors.Is(err, syscall.EIO) {
					t.Fatalf("torn append: %v, want ErrFailed wrapping EIO", err)
				}
				if err := d.append(1, 1); !errors.Is(err, storage.ErrFailed) {
					t.Fatalf("append after a torn write: %v", err)
				}
				if err := d.snapshot().check(d.l); err != nil {
					t.Fatalf("the failed log: %v", err)
				}
				d.l.Close()
				if err := d.open(); err != nil {
					t.Fatal(err)
				}
				// A write torn within the batch leaves a tail recovery cuts;
				// one torn after all of it (n past its size) may leave it whole.
				if n < 150 { // every batch the driver makes is longer
					if got := d.l.EndOffset(); got != end {
						t.Fatalf("after reopen the log ends at %d, want %d: the torn batch is back", got, end)
					}
					if d.l.Stats().RecoveryCutBytes == 0 {
						t.Fatal("recovery cut nothing")
					}
				}
				if err := d.settle(); err != nil {
					t.Fatal(err)
				}
				if err := d.appendN(1, 3); err != nil {
					t.Fatal(err)
				}
				d.l.Close()
				if err := verifyImage(fsys.Crash(), o, d.snapshot()); err != nil {
					t.Fatalf("after reopen, appends and a crash: %v", err)
				}
			})
		}
	}
}

// noSyncDirFS forgets every directory fsync, to show that the directory
// durability test below would catch a log that did.
type noSyncDirFS struct{ *faultfs.FS }

func (noSyncDirFS) SyncDir(string) error { return nil }

// TestStorageFaultDirectorySync checks that what the log creates, renames
// and removes survives a crash because the log synced the directory: the
// segments a roll creates, the start checkpoint written by SetStartOffset,
// and the one written by retention. The same steps through a filesystem
// that drops directory fsyncs must each fail the check.
func TestStorageFaultDirectorySync(t *testing.T) {
	o := faultOptions()
	o.RetentionBytes = 6 << 10
	phases := []struct {
		name string
		run  func(fsys storage.FS, base *faultfs.FS) error
	}{
		{"roll", func(fsys storage.FS, base *faultfs.FS) error {
			l, err := openOn(fsys, faultLogDir, o)
			if err != nil {
				return err
			}
			defer l.Close()
			var want [][]byte
			for i := 0; len(l.Segments()) < 4; i++ {
				b := uniqueBatch(i, 900)
				if _, err := l.Append(1, b); err != nil {
					return err
				}
				want = append(want, b)
			}
			segs := len(l.Segments())
			img, err := openOn(base.Crash(), faultLogDir, o)
			if err != nil {
				return err
			}
			defer img.Close()
			got, err := readBatches(img)
			if err != nil {
				return err
			}
			if len(got) != len(want) || len(img.Segments()) != segs {
				return fmt.Errorf("after a crash %d batches in %d segments, acknowledged %d in %d", len(got), len(img.Segments()), len(want), segs)
			}
			return nil
		}},
		{"delete records", func(fsys storage.FS, base *faultfs.FS) error {
			l, err := openOn(fsys, faultLogDir, o)
			if err != nil {
				return err
			}
			defer l.Close()
			l.SetHighWatermark(l.EndOffset())
			start := l.EndOffset() - 3
			if err := l.SetStartOffset(start); err != nil {
				return err
			}
			return startAfterCrash(base, o, start)
		}},
		{"retention", func(fsys storage.FS, base *faultfs.FS) error {
			l, err := openOn(fsys, faultLogDir, o)
			if err != nil {
				return err
			}
			defer l.Close()
			l.SetHighWatermark(l.EndOffset())
			if n, err := l.EnforceRetention(time.Now()); err != nil || n == 0 {
				return fmt.Errorf("retention removed %d segments: %v", n, err)
			}
			return startAfterCrash(base, o, l.StartOffset())
		}},
	}
	for _, p := range phases {
		t.Run(p.name, func(t *testing.T) {
			for _, forget := range []bool{false, true} {
				// A log of a few segments, built with directory syncs, in a
				// directory that is itself durable.
				base := faultfs.New()
				if err := base.MkdirAll(faultLogDir, 0o755); err != nil {
					t.Fatal(err)
				}
				base.SyncDir("/")
				base.SyncDir("/data")
				if p.name != "roll" {
					d := newDriver(base, o)
					if err := d.open(); err != nil {
						t.Fatal(err)
					}
					if err := d.appendN(1, 20); err != nil {
						t.Fatal(err)
					}
					d.close()
				}
				var fsys storage.FS = base
				if forget {
					fsys = noSyncDirFS{base}
				}
				err := p.run(fsys, base)
				switch {
				case !forget && err != nil:
					t.Fatal(err)
				case forget && err == nil:
					t.Fatal("a log that never syncs its directory passes the check")
				}
			}
		})
	}
}

// startAfterCrash checks that the log on a crash image of base starts at start.
func startAfterCrash(base *faultfs.FS, o storage.Options, start int64) error {
	l, err := openOn(base.Crash(), faultLogDir, o)
	if err != nil {
		return err
	}
	defer l.Close()
	if got := l.StartOffset(); got != start {
		return fmt.Errorf("after a crash the log starts at %d, want %d", got, start)
	}
	_, err = readBatches(l)
	return err
}

// TestStorageFaultStaleIndexAfterCrash: a crash inside a suffix truncation
// with write caching leaves an index synced ahead of data that recovery then
// cuts; new batches land where the cut ones were. If recovery did not make
// its rewritten index durable, the next crash would bring the old entries
// back, and one of them lining up with a new batch would make recovery trust
// the rest: ordinals off by one, reads starting mid-batch.
func TestStorageFaultStaleIndexAfterCrash(t *testing.T) {
	o := faultOptions()
	o.SegmentBytes = 1 << 20
	o.IndexIntervalBytes = 0 // an entry per batch
	o.WriteCaching = true
	o.FlushMs = 3_600_000
	o.FlushBytes = 1 << 30
	fsys := faultfs.New()
	l := mustOpenOn(t, fsys, o)
	one := batchtest.Values(0, 1, 150)
	for i := 0; i < 6; i++ {
		if _, err := l.Append(1, batchtest.Values(int64(i), 1, 150)); err != nil {
			t.Fatal(err)
		}
	}
	// Crash when the truncation has synced the index and not yet the data.
	var img *faultfs.FS
	fsys.SetHook(func(op faultfs.Op) error {
		if img == nil && op.Kind == faultfs.OpTruncate && strings.HasSuffix(op.Path, ".log") {
			img = fsys.Crash()
		}
		return nil
	})
	l.SetHighWatermark(l.EndOffset())
	if err := l.TruncateSuffix(4); err != nil {
		t.Fatal(err)
	}
	if img == nil {
		t.Fatal("no crash image")
	}
	// Recover (nothing was flushed: the segment is empty) and append, in
	// the durable mode, a two-record batch exactly as long as two old ones,
	// so that old index entries for offsets 2 and 3 match the new batches.
	o.WriteCaching = false
	l2, err := openOn(img, faultLogDir, o)
	if err != nil {
		t.Fatal(err)
	}
	v1, v2 := 100, 100
	two := func() []byte {
		return batchtest.Build(batchtest.Options{}, batchtest.Record{Value: make([]byte, v1)}, batchtest.Record{Value: make([]byte, v2)})
	}
	for len(two()) < 2*len(one) {
		if v1 == v2 {
			v1++
		} else {
			v2++
		}
	}
	if len(two()) != 2*len(one) {
		t.Fatalf("cannot line the batches up: %d vs 2*%d", len(two()), len(one))
	}
	want := [][]byte{two(), batchtest.Values(10, 1, 150), batchtest.Values(11, 1, 150), batchtest.Values(12, 1, 150)}
	for _, b := range want {
		if _, err := l2.Append(1, b); err != nil { // same term: same segment
			t.Fatal(err)
		}
	}
	if n := len(l2.Segments()); n != 1 {
		t.Fatalf("setup: the new batches went to %d segments, want the recovered one", n)
	}
	l2.Close()
	l3, err := openOn(img.Crash(), faultLogDir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer l3.Close()
	if got := l3.NextOrdinal(); got != int64(len(want)) {
		t.Errorf("after the second crash the next ordinal is %d, want %d", got, len(want))
	}
	for ord, b := range want {
		got, _, err := l3.ReadOrdinal(int64(ord), nil)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("ordinal %d: %v, bytes match %v", ord, err, bytes.Equal(got, b))
		}
	}
	for off := int64(0); off < l3.EndOffset(); off++ {
		var s storage.Slice
		if err := l3.Read(off, 1<<62, 1, &s); err != nil {
			t.Errorf("read at %d: %v", off, err)
		}
		s.Release()
	}
}

// TestStorageDirectRollsWithoutPreallocation: with O_DIRECT the last block
// of a segment is written padded with zeros past the data. Sealing must cut
// the padding whether or not the file was preallocated, or the next open
// finds a sealed segment longer than its batches and refuses it as corrupt.
// (Found by TestStorageCrashKill9.)
func TestStorageDirectRollsWithoutPreallocation(t *testing.T) {
	for _, prealloc := range []int64{0, 2 << 10} {
		o := faultOptions()
		o.Direct = true
		o.PreallocBytes = prealloc
		fsys := faultfs.New()
		d := newDriver(fsys, o)
		if err := d.open(); err != nil {
			t.Fatal(err)
		}
		if err := d.appendN(1, 20); err != nil {
			t.Fatal(err)
		}
		if len(d.l.Segments()) < 3 {
			t.Fatalf("no rolls: %d segments", len(d.l.Segments()))
		}
		if err := d.close(); err != nil {
			t.Fatal(err)
		}
		if err := d.open(); err != nil {
			t.Fatalf("prealloc %d: reopen after rolls: %v", prealloc, err)
		}
		if err := d.snapshot().check(d.l); err != nil {
			t.Fatalf("prealloc %d: %v", prealloc, err)
		}
		d.close()
	}
}

// TestStorageFaultRecoverySyncsWhatItKeeps: a reopen without a crash keeps
// what the page cache holds, including bytes an earlier run never synced.
// Recovery must sync them before counting them as on disk: otherwise a
// failed fsync later drops their pages, the log cuts back only to where it
// believes the disk is, and a crash after more acknowledged appends loses
// those appends with the hole before them.
func TestStorageFaultRecoverySyncsWhatItKeeps(t *testing.T) {
	o := faultOptions()
	o.SegmentBytes = 1 << 20
	o.PreallocBytes = 0 // the file ends where the batches do: nothing to cut
	o.WriteCaching = true
	o.FlushMs = 3_600_000
	o.FlushBytes = 1 << 30
	fsys := faultfs.New()
	d := newDriver(fsys, o)
	d.size = 2500 // three batches over two pages
	if err := d.open(); err != nil {
		t.Fatal(err)
	}
	if err := d.appendN(1, 3); err != nil { // cached, never synced
		t.Fatal(err)
	}
	fsys.TearNextWrite(0)
	if err := d.append(1, 1); !errors.Is(err, storage.ErrFailed) {
		t.Fatalf("append with a failing write: %v", err)
	}
	d.l.Close() // failed: no flush
	d.opts.WriteCaching = false
	if err := d.open(); err != nil {
		t.Fatal(err)
	}
	if err := d.settle(); err != nil {
		t.Fatal(err)
	}
	if len(d.snapshot().must) != 3 {
		t.Fatal("setup: the reopen did not keep the cached batches")
	}
	fsys.FailNextSync(syscall.EIO)
	if err := d.append(1, 1); !errors.Is(err, storage.ErrFailed) {
		t.Fatalf("append with a failing fsync: %v", err)
	}
	d.l.Close()
	if err := d.open(); err != nil {
		t.Fatal(err)
	}
	if err := d.settle(); err != nil {
		t.Fatal(err)
	}
	if err := d.appendN(1, 2); err != nil {
		t.Fatal(err)
	}
	d.l.Close()
	if err := verifyImage(fsys.Crash(), d.opts, d.snapshot()); err != nil {
		t.Fatal(err)
	}
}
