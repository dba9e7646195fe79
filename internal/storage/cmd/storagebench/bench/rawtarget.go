package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ailurus/ailurus/internal/storage"
)

// directAlign is the O_DIRECT alignment of offsets, lengths and buffers.
const directAlign = 4096

// rawTarget is the disk without the log: every append reserves the next
// range of one file, writes it with pwrite and fdatasyncs, with no group
// commit. The file is preallocated with fallocate in the log's default
// steps, as the log preallocates its segments.
type rawTarget struct {
	f       *os.File
	payload int64 // batch bytes per append; O_DIRECT writes more (padding)
	step    int64
	c       *rawCounters

	mu        sync.Mutex
	end       int64 // next write position
	allocated int64 // bytes reserved by fallocate
}

// rawCounters are shared by the files of a run.
type rawCounters struct {
	appends, bytes, inFlight, peak atomic.Int64
}

func (t *rawTarget) reserve(n int64) (int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	pos := t.end
	for pos+n > t.allocated {
		if err := fallocate(t.f, t.allocated, t.step); err != nil {
			return 0, err
		}
		t.allocated += t.step
	}
	t.end += n
	return pos, nil
}

func (t *rawTarget) appendBatch(b []byte) error {
	pos, err := t.reserve(int64(len(b)))
	if err != nil {
		return err
	}
	if _, err := t.f.WriteAt(b, pos); err != nil {
		return err
	}
	n := t.c.inFlight.Add(1)
	for p := t.c.peak.Load(); n > p && !t.c.peak.CompareAndSwap(p, n); p = t.c.peak.Load() {
	}
	err = fdatasync(t.f)
	t.c.inFlight.Add(-1)
	if err != nil {
		return err
	}
	t.c.appends.Add(1)
	t.c.bytes.Add(t.payload)
	return nil
}

func (t *rawTarget) close() error { return t.f.Close() }

func (r *Run) openRaw() error {
	c := &rawCounters{}
	step := storage.DefaultOptions().PreallocBytes
	direct := r.sc.Engine == RawDirect
	for p := range r.sc.Partitions {
		flag := os.O_RDWR | os.O_CREATE | os.O_EXCL
		if direct {
			flag |= unix.O_DIRECT
		}
		f, err := os.OpenFile(filepath.Join(r.dir, strconv.Itoa(p)+".raw"), flag, 0o644)
		if err != nil {
			return err
		}
		r.targets = append(r.targets, &rawTarget{f: f, payload: int64(r.batchBytes), step: step, c: c})
	}
	if direct {
		for i, b := range r.batches {
			r.batches[i] = padForDirect(b)
		}
	}
	r.stats = func() (appends, bytes, syncs, peak int64) {
		a := c.appends.Load()
		return a, c.bytes.Load(), a, c.peak.Load()
	}
	return nil
}

// padForDirect copies b into an aligned buffer whose length is a multiple
// of directAlign, for O_DIRECT writes.
func padForDirect(b []byte) []byte {
	n := (len(b) + directAlign - 1) &^ (directAlign - 1)
	raw := make([]byte, n+directAlign)
	off := (directAlign - int(uintptr(unsafe.Pointer(&raw[0]))%directAlign)) % directAlign
	out := raw[off : off+n : off+n]
	copy(out, b)
	return out
}

func fallocate(f *os.File, off, n int64) error {
	for {
		err := unix.Fallocate(int(f.Fd()), 0, off, n)
		if err != unix.EINTR {
			return err
		}
	}
}

func fdatasync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}
