package faultfs

import (
	"io"
	"os"
	"syscall"
	"unsafe"

	"github.com/ailurus/ailurus/internal/storage"
)

// file is an open handle. It keeps its inode after the name is removed or
// replaced, as a descriptor does.
type file struct {
	fs          *FS
	n           *inode
	name        string
	read, write bool
	direct      bool
	closed      bool // guarded by fs.mu
}

var _ storage.File = (*file)(nil)

func (h *file) Name() string { return h.name }

// check is called with mu held before every use of the handle.
func (h *file) check(op string, wantRead, wantWrite bool) error {
	switch {
	case h.closed:
		return pathErr(op, h.name, os.ErrClosed)
	case wantRead && !h.read, wantWrite && !h.write:
		return pathErr(op, h.name, syscall.EBADF)
	}
	return nil
}

// checkDirect enforces O_DIRECT alignment of offset, length and buffer.
func (h *file) checkDirect(op string, b []byte, off int64) error {
	if !h.direct {
		return nil
	}
	if off%sectorSize != 0 || len(b)%sectorSize != 0 ||
		(len(b) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%sectorSize != 0) {
		return pathErr(op, h.name, syscall.EINVAL)
	}
	return nil
}

func (h *file) ReadAt(b []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check("read", true, false); err != nil {
		return 0, err
	}
	if err := h.checkDirect("read", b, off); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("read", h.name, syscall.EINVAL)
	}
	if off >= int64(len(h.n.data)) {
		return 0, io.EOF
	}
	n := copy(b, h.n.data[off:])
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt writes b at off. TearNextWrite and ENOSPCAfter may make it write
// a prefix only and fail.
func (h *file) WriteAt(b []byte, off int64) (int, error) {
	if err := h.fs.begin(OpWrite, h.name); err != nil {
		return 0, err
	}
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check("write", false, true); err != nil {
		return 0, err
	}
	if err := h.checkDirect("write", b, off); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("write", h.name, syscall.EINVAL)
	}
	f := h.fs
	if f.tearNext >= 0 {
		k := min(f.tearNext, len(b))
		f.tearNext = -1
		k = f.grant(h.n, off, k)
		h.n.writeAt(b[:k], off)
		return k, pathErr("write", h.name, syscall.EIO)
	}
	if k := f.grant(h.n, off, len(b)); k < len(b) {
		h.n.writeAt(b[:k], off)
		return k, pathErr("write", h.name, syscall.ENOSPC)
	}
	h.n.writeAt(b, off)
	return len(b), nil
}

// grant is how many of n bytes written at off fit in the space left; it
// takes the growth of the file from the space.
func (f *FS) grant(n *inode, off int64, want int) int {
	size := int64(len(n.data))
	end := off + int64(want)
	if f.spaceLeft < 0 || end <= size {
		return want
	}
	room := size + f.spaceLeft - off // bytes from off that fit
	k := int64(want)
	if room < k {
		k = max(room, 0)
	}
	if grow := off + k - size; grow > 0 {
		f.spaceLeft -= grow
	}
	return int(k)
}

// Sync is fdatasync: the dirty pages and the size become durable. A failed
// Sync (FailNextSync, FailSyncsOn) makes nothing durable and loses the dirty
// pages, as Linux does.
func (h *file) Sync() error {
	if err := h.fs.begin(OpSync, h.name); err != nil {
		return err
	}
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check("fdatasync", false, false); err != nil {
		return err
	}
	if err := h.fs.syncFault(h.name); err != nil {
		clear(h.n.dirty)
		return pathErr("fdatasync", h.name, err)
	}
	h.n.sync()
	return nil
}

func (h *file) Truncate(size int64) error {
	if err := h.fs.begin(OpTruncate, h.name); err != nil {
		return err
	}
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check("truncate", false, true); err != nil {
		return err
	}
	if size < 0 {
		return pathErr("truncate", h.name, syscall.EINVAL)
	}
	if grow := size - int64(len(h.n.data)); grow > 0 && h.fs.spaceLeft >= 0 {
		if grow > h.fs.spaceLeft {
			return pathErr("truncate", h.name, syscall.ENOSPC)
		}
		h.fs.spaceLeft -= grow
	}
	h.n.truncate(size)
	return nil
}

// Allocate extends the file with zeros to cover [off, off+n); it fails whole
// with ENOSPC if the growth does not fit.
func (h *file) Allocate(off, n int64) error {
	if err := h.fs.begin(OpAllocate, h.name); err != nil {
		return err
	}
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check("fallocate", false, true); err != nil {
		return err
	}
	if off < 0 || n <= 0 {
		return pathErr("fallocate", h.name, syscall.EINVAL)
	}
	end := off + n
	grow := end - int64(len(h.n.data))
	if grow <= 0 {
		return nil
	}
	if h.fs.spaceLeft >= 0 {
		if grow > h.fs.spaceLeft {
			return pathErr("fallocate", h.name, syscall.ENOSPC)
		}
		h.fs.spaceLeft -= grow
	}
	h.n.truncate(end)
	return nil
}

func (h *file) Size() (int64, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check("stat", false, false); err != nil {
		return 0, err
	}
	return int64(len(h.n.data)), nil
}

func (h *file) Close() error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.closed {
		return pathErr("close", h.name, os.ErrClosed)
	}
	h.closed = true
	return nil
}

// writeAt puts b at off in the current bytes and dirties its pages.
func (n *inode) writeAt(b []byte, off int64) {
	if len(b) == 0 {
		return
	}
	end := off + int64(len(b))
	if end > int64(len(n.data)) {
		n.truncate(end)
	}
	copy(n.data[off:], b)
	for p := off / pageSize; p*pageSize < end; p++ {
		n.dirty[p] = struct{}{}
	}
}

// truncate sets the current size. Growing fills with zeros and dirties the
// pages where the durable bytes hold something else, so that a sync cannot
// resurrect bytes cut earlier.
func (n *inode) truncate(size int64) {
	old := int64(len(n.data))
	if size <= old {
		n.data = n.data[:size]
		return
	}
	for p := old / pageSize; p*pageSize < min(size, int64(len(n.dur))); p++ {
		n.dirty[p] = struct{}{}
	}
	n.data = resize(n.data, size)
}

// sync makes the current size and the dirty pages durable.
func (n *inode) sync() {
	n.dur = resize(n.dur, int64(len(n.data)))
	for p := range n.dirty {
		lo := p * pageSize
		if hi := min(lo+pageSize, int64(len(n.data))); lo < hi {
			copy(n.dur[lo:hi], n.data[lo:hi])
		}
	}
	clear(n.dirty)
}

// resize cuts b to size or extends it with zeros (never with stale bytes
// left in its capacity).
func resize(b []byte, size int64) []byte {
	if size <= int64(len(b)) {
		return b[:size]
	}
	return append(b, make([]byte, size-int64(len(b)))...)
}
