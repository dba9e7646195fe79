package storage

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/ailurus/ailurus/internal/batch/batchtest"
)

// TestStorageObserveSyncs: every group commit's fdatasync is reported once,
// with a positive duration, and a nil observer stops the reports.
func TestStorageObserveSyncs(t *testing.T) {
	var n atomic.Int64
	var bad atomic.Bool
	ObserveSyncs(func(d time.Duration) {
		if d <= 0 {
			bad.Store(true)
		}
		n.Add(1)
	})
	defer ObserveSyncs(nil)
	l := openTest(t, t.TempDir(), DefaultOptions())
	before := l.Stats().Syncs
	for i := range 5 {
		if _, err := l.Append(1, batchtest.Values(int64(i), 1, 100)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := n.Load(), l.Stats().Syncs-before; got != want || got < 1 || bad.Load() {
		t.Fatalf("observed %d fdatasyncs (bad duration %v), the log made %d", got, bad.Load(), want)
	}
	ObserveSyncs(nil)
	if _, err := l.Append(1, batchtest.Values(5, 1, 100)); err != nil {
		t.Fatal(err)
	}
	if got := n.Load(); got != l.Stats().Syncs-before-1 {
		t.Fatalf("observed %d after the observer was removed", got)
	}
}
