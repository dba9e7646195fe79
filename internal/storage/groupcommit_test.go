package storage_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ailurus/ailurus/internal/storage/faultfs"
)

// TestStorageGroupCommitUnderClose: with fdatasyncs slow enough for
// appenders to pile up behind each, every append is acknowledged, they share
// the fdatasyncs, appends racing with Close either succeed or fail with
// ErrClosed, no fdatasync of the log's files runs after Close returns, and
// a crash after it keeps every acknowledged batch.
func TestStorageGroupCommitUnderClose(t *testing.T) {
	fsys := faultfs.New()
	o := faultOptions()
	o.SegmentBytes = 1 << 20
	l := mustOpenOn(t, fsys, o)

	var closed, late atomic.Bool
	fsys.SetHook(func(op faultfs.Op) error {
		if op.Kind != faultfs.OpSync {
			return nil
		}
		if closed.Load() {
			late.Store(true)
		}
		time.Sleep(2 * time.Millisecond) // appenders queue behind each fdatasync
		return nil
	})
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := l.Append(1, uniqueBatch(w*each+i, 300)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Appends racing with Close: some are acknowledged, the rest fail with
	// ErrClosed; either way no fdatasync may outlive Close.
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if _, err := l.Append(1, uniqueBatch(10_000+w*1000+i, 300)); err != nil {
					return
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	closed.Store(true)
	wg.Wait()
	time.Sleep(10 * time.Millisecond)
	if late.Load() {
		t.Fatal("an fdatasync ran after Close returned")
	}
	st := l.Stats()
	if st.Syncs*2 > st.Batches {
		t.Fatalf("%d fdatasyncs for %d batches: the appenders did not share them", st.Syncs, st.Batches)
	}
	if t.Failed() {
		return
	}
	l2 := mustOpenOn(t, fsys.Crash(), o)
	got, err := readBatches(l2)
	if err != nil || int64(len(got)) != st.Batches {
		t.Fatalf("after a crash: %d batches, err %v; %d were acknowledged", len(got), err, st.Batches)
	}
}
