package raftlog

import (
	"errors"
	"os"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/storage"
)

// failFS is the OS filesystem whose files fail Sync while failSync is set.
type failFS struct {
	storage.FS
	failSync atomic.Bool
}

type failFile struct {
	storage.File
	fs *failFS
}

var errInjected = errors.New("injected fsync failure")

func (f *failFS) OpenFile(name string, flag int, perm os.FileMode, direct bool) (storage.File, error) {
	file, err := f.FS.OpenFile(name, flag, perm, direct)
	if err != nil {
		return nil, err
	}
	return failFile{file, f}, nil
}

func (f failFile) Sync() error {
	if f.fs.failSync.Load() {
		return errInjected
	}
	return f.File.Sync()
}

// A failed side file fsync fails the StoreLogs, refuses later writes, and a
// reopen recovers a consistent log without the entries of the failed call.
func TestRaftlogSideFsyncFailureFailsStore(t *testing.T) {
	dir := t.TempDir()
	l, err := storage.Open(dir, testLogOptions(), storage.Env{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fsys := &failFS{FS: storage.OS}
	st, err := Open(l, Env{FS: fsys, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	good := []*raft.Log{cfgEntry(1, 1), batchEntry(2, 1)}
	store(t, st, good...)
	fsys.failSync.Store(true)
	if err := st.StoreLogs([]*raft.Log{noopEntry(3, 2), batchEntry(4, 2)}); !errors.Is(err, ErrFailed) || !errors.Is(err, errInjected) {
		t.Fatalf("StoreLogs with a failing fsync: %v", err)
	}
	fsys.failSync.Store(false)
	if err := st.StoreLogs([]*raft.Log{batchEntry(3, 2)}); !errors.Is(err, ErrFailed) {
		t.Fatalf("StoreLogs after a failure: %v, want ErrFailed", err)
	}
	if err := st.DeleteRange(2, 2); !errors.Is(err, ErrFailed) {
		t.Fatalf("DeleteRange after a failure: %v, want ErrFailed", err)
	}
	// Reads of what was stored still work; the failed call's entries are not
	// visible.
	wantBounds(t, st, 1, 2)
	st.Close()
	if l.NextOrdinal() != 1 {
		t.Fatalf("the failed call's batch reached the kafka log: %d batches", l.NextOrdinal())
	}
	st, err = Open(l, Env{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The noop record may or may not have reached the disk; either way the
	// log is a prefix of what was written, and appends continue after it.
	last, _ := st.LastIndex()
	if last != 2 && last != 3 {
		t.Fatalf("last index %d after reopen, want 2 or 3", last)
	}
	if err := st.StoreLogs([]*raft.Log{batchEntry(last+1, 3)}); err != nil {
		t.Fatal(err)
	}
}
