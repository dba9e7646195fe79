package storage

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ailurus/ailurus/internal/batch/batchtest"
)

// TestStoragePreallocGrows: a log holding one small batch reserves only the
// first preallocation step, and the steps double as it fills, up to
// PreallocBytes.
func TestStoragePreallocGrows(t *testing.T) {
	dir := t.TempDir()
	o := DefaultOptions()
	o.PreallocBytes = 1 << 20
	l := openTest(t, dir, o)
	size := func() int64 {
		t.Helper()
		m, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		if len(m) != 1 {
			t.Fatalf("segments: %v", m)
		}
		fi, err := os.Stat(m[0])
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if _, err := l.Append(1, batchtest.Values(1, 1, 100)); err != nil {
		t.Fatal(err)
	}
	if got := size(); got != minPrealloc || got != o.FirstPrealloc() {
		t.Fatalf("one small batch reserved %d bytes, want the first step of %d (FirstPrealloc %d)", got, minPrealloc, o.FirstPrealloc())
	}
	if o.PreallocBytes = 0; o.FirstPrealloc() != 0 {
		t.Errorf("FirstPrealloc without preallocation: %d", o.FirstPrealloc())
	}
	// 16 KiB batches until the file grew three times: 256 KiB, 512 KiB,
	// 1 MiB (the cap), 2 MiB.
	want := []int64{2 * minPrealloc, 4 * minPrealloc, 4*minPrealloc + 1<<20}
	for _, w := range want {
		for size() < w {
			if _, err := l.Append(1, batchtest.Values(1, 16, 1000)); err != nil {
				t.Fatal(err)
			}
		}
		if got := size(); got != w {
			t.Fatalf("file grew to %d, want %d", got, w)
		}
	}
}
