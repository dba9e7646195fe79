package storage

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/ailurus/ailurus/internal/batch/batchtest"
)

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestStorageIdlePartitionMemory: an open, idle partition log costs a few
// KiB of heap (plus its open files), so a shard can hold thousands.
func TestStorageIdlePartitionMemory(t *testing.T) {
	root := t.TempDir()
	const n = 200
	o := DefaultOptions()
	o.WriteCaching = true // setup speed only: memory is what is measured
	fl := NewFlusher(4)
	// Each log gets some data and is reopened, as after a restart.
	for i := 0; i < n; i++ {
		l, err := Open(filepath.Join(root, fmt.Sprint(i)), o, Env{Flusher: fl, Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 5; j++ {
			if _, err := l.Append(1, batchtest.Values(int64(j), 10, 100)); err != nil {
				t.Fatal(err)
			}
		}
		l.Close()
	}
	before := heapInUse()
	logs := make([]*Log, n)
	for i := range logs {
		l, err := Open(filepath.Join(root, fmt.Sprint(i)), o, Env{Flusher: fl, Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		logs[i] = l
	}
	per := (heapInUse() - before) / n
	t.Logf("idle partition log: %d bytes of heap each", per)
	if per > 16<<10 {
		t.Errorf("an idle partition log costs %d bytes of heap, want a few KiB", per)
	}
	for _, l := range logs {
		l.Close()
	}
}

// TestStorageIndexMemory: the index of a segment grows with its size at
// 24 bytes per index.interval.bytes (6 MiB for 1 GiB at the default 4 KiB),
// and reading never loads a whole segment.
func TestStorageIndexMemory(t *testing.T) {
	o := DefaultOptions()
	o.SegmentBytes = 1 << 30
	o.WriteCaching = true // setup speed only: memory is what is measured
	l := openTest(t, t.TempDir(), o)
	b := batchtest.Values(1, 16, 1000) // ~16 KiB
	const total = 64 << 20
	for written := 0; written < total; written += len(b) {
		if _, err := l.Append(1, append([]byte(nil), b...)); err != nil {
			t.Fatal(err)
		}
	}
	l.mu.Lock()
	entries := len(l.active().idx)
	l.mu.Unlock()
	perGiB := float64(entries*indexEntrySize) * float64(1<<30) / float64(l.Size())
	t.Logf("index: %d entries for %d MiB: %.1f MiB per GiB of segment", entries, l.Size()>>20, perGiB/(1<<20))
	if perGiB > 8<<20 {
		t.Errorf("index would take %.1f MiB for a 1 GiB segment", perGiB/(1<<20))
	}
	// A 1 MiB read of a 64 MiB segment allocates about the bytes returned,
	// not the segment.
	before := heapInUse()
	var s Slice
	if err := l.Read(0, 1<<62, 1<<20, &s); err != nil {
		t.Fatal(err)
	}
	buf, err := s.AppendTo(nil)
	s.Release()
	if err != nil || len(buf) == 0 {
		t.Fatal(err)
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if grew := m.HeapAlloc - before; grew > 8<<20 {
		t.Errorf("a 1 MiB read grew the heap by %d MiB", grew>>20)
	}
	runtime.KeepAlive(buf)
}
