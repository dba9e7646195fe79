package faultfs

import (
	"strings"
	"syscall"
)

// FailNextSync makes the next File.Sync or SyncDir, whichever comes first,
// fail with err (syscall.EIO if nil). A failed File.Sync loses the file's
// dirty pages (see the package comment).
func (f *FS) FailNextSync(err error) {
	if err == nil {
		err = syscall.EIO
	}
	f.mu.Lock()
	f.failNext = err
	f.mu.Unlock()
}

// FailSyncsOn makes every File.Sync and SyncDir of a path containing sub
// fail with EIO, until ClearFaults or FailSyncsOn("").
func (f *FS) FailSyncsOn(sub string) {
	f.mu.Lock()
	f.failOn = sub
	f.mu.Unlock()
}

// ENOSPCAfter lets files grow by n more bytes in all; past that, a write
// writes the prefix that fits and fails with ENOSPC, and Allocate or a
// growing Truncate fail whole. Space freed by removing or shrinking files is
// not given back. n < 0 removes the limit.
func (f *FS) ENOSPCAfter(n int64) {
	f.mu.Lock()
	f.spaceLeft = max(n, -1)
	f.mu.Unlock()
}

// TearNextWrite makes the next WriteAt write only its first n bytes (all of
// them if it has fewer) and fail with EIO, as a write cut short by a failing
// device does. n < 0 cancels.
func (f *FS) TearNextWrite(n int) {
	f.mu.Lock()
	f.tearNext = max(n, -1)
	f.mu.Unlock()
}

// ClearFaults cancels every pending fault and the space limit.
func (f *FS) ClearFaults() {
	f.mu.Lock()
	f.failNext, f.failOn, f.spaceLeft, f.tearNext = nil, "", -1, -1
	f.mu.Unlock()
}

// syncFault (mu held) is the error an fsync of path must fail with, if any.
func (f *FS) syncFault(path string) error {
	if err := f.failNext; err != nil {
		f.failNext = nil
		return err
	}
	if f.failOn != "" && strings.Contains(path, f.failOn) {
		return syscall.EIO
	}
	return nil
}
