package storage_test

import (
	"strings"
	"testing"

	"github.com/ailurus/ailurus/internal/storage/faultfs"
)

// TestStorageIndexFileLags: the active segment's index file is written a
// page of entries at a time, not after every group commit, so after a
// crash it lacks the newest entries; recovery scans the data past it and
// every acknowledged batch reads back, by offset too. Close writes it whole.
func TestStorageIndexFileLags(t *testing.T) {
	fsys := faultfs.New()
	o := faultOptions()
	o.SegmentBytes = 1 << 20 // one active segment
	o.IndexIntervalBytes = 1 // an entry per batch
	l, err := openOn(fsys, faultLogDir, o)
	if err != nil {
		t.Fatal(err)
	}
	const n = 400
	var want []string
	for i := range n {
		b := uniqueBatch(i, 200)
		if _, err := l.Append(1, b); err != nil {
			t.Fatal(err)
		}
		want = append(want, identity(b))
	}
	indexSize := func(f *faultfs.FS) int {
		t.Helper()
		ents, err := f.ReadDir(faultLogDir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".index") {
				b, err := f.ReadFile(faultLogDir + "/" + e.Name())
				if err != nil {
					t.Fatal(err)
				}
				return len(b)
			}
		}
		t.Fatal("no index file")
		return 0
	}
	lagging := indexSize(fsys)

	crashed := fsys.Crash()
	l2, err := openOn(crashed, faultLogDir, o)
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	got, err := readBatches(l2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("after the crash %d batches, want %d", len(got), n)
	}
	for i, b := range got {
		if identity(b) != want[i] {
			t.Fatalf("batch %d differs after the crash", i)
		}
	}
	l2.Close()

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	whole := indexSize(fsys)
	if lagging >= whole || (whole-lagging)%24 != 0 {
		t.Fatalf("index file %d bytes before Close, %d after: want it to lag by whole entries", lagging, whole)
	}
}
