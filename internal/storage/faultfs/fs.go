// Package faultfs is an in-memory storage.FS for tests: it models exactly
// what a crash keeps and injects IO faults. Unstable: for tests only.
//
// Durability model (POSIX as Linux implements it, read strictly):
//
//   - Every file has current bytes (what reads see: the page cache) and
//     durable bytes (what the disk holds). A write changes the current bytes
//     and marks its 4 KiB pages dirty. File.Sync (fdatasync) copies the dirty
//     pages and the size to the durable bytes.
//   - A failed Sync loses its dirty pages: they stay readable, but they are no
//     longer dirty, so a later Sync that succeeds does not write them. Linux
//     does this after a writeback error ("fsyncgate").
//   - Directory entries (a create, a rename, a remove, a mkdir) are current
//     until SyncDir of the directory holding them makes them durable. A new
//     directory's own entry lives in its parent. The root always exists.
//   - Crash returns a new FS holding only durable state. CrashTorn also lets
//     some un-synced changes through (see CrashTorn).
//
// Space: ENOSPCAfter(n) lets files grow by n more bytes in all. Writes within
// a file's size, including space reserved by Allocate, never run out, as on
// a real filesystem.
//
// An FS is safe for concurrent use: one mutex guards everything, file data
// included. Names are slash-separated; relative names resolve from the root.
package faultfs

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ailurus/ailurus/internal/storage"
)

const (
	pageSize   = 4096 // unit of dirty tracking and of writeback
	sectorSize = 512  // unit a device writes atomically; O_DIRECT alignment
)

// Op names an operation that changes the filesystem, for SetHook.
type Op struct {
	Seq  int64  // 1 for the first operation of this FS, then 2, 3...
	Kind string // one of the Op* constants
	Path string
}

// Operation kinds. Reads, opens that create nothing and ReadDir are not
// operations: they change nothing a crash could keep.
const (
	OpCreate   = "create" // OpenFile with O_CREATE or O_TRUNC
	OpWrite    = "write"
	OpSync     = "sync"
	OpSyncDir  = "syncdir"
	OpTruncate = "truncate"
	OpAllocate = "allocate"
	OpRemove   = "remove"
	OpRename   = "rename"
	OpMkdir    = "mkdir"
)

// FS is the in-memory filesystem. The zero value is not usable; call New.
type FS struct {
	mu   sync.Mutex
	root *inode
	// pending holds the directory operations not yet durable, oldest first;
	// each is one or more entry changes applied atomically (a rename is two).
	pending [][]change

	// Faults, guarded by mu.
	failNext  error  // the next Sync or SyncDir fails with it
	failOn    string // every Sync or SyncDir of a path containing it fails
	spaceLeft int64  // bytes files may still grow by; -1 unlimited
	tearNext  int    // the next WriteAt writes this many bytes and fails; -1 off
	hook      func(Op) error

	ops atomic.Int64
}

// inode is a file or a directory. Fields are guarded by the FS's mu.
type inode struct {
	dir bool

	// Directory: current and durable entries.
	entries, durEntries map[string]*inode

	// File: current and durable bytes, and the pages written since the last
	// sync (page index -> struct{}).
	data, dur []byte
	dirty     map[int64]struct{}
}

// change sets dir's entry name to node, or removes it if node is nil.
type change struct {
	dir  *inode
	name string
	node *inode
}

var _ storage.FS = (*FS)(nil)

// New returns an empty filesystem: a root directory and nothing else.
func New() *FS {
	return &FS{root: newDir(), spaceLeft: -1, tearNext: -1}
}

func newDir() *inode {
	return &inode{dir: true, entries: map[string]*inode{}, durEntries: map[string]*inode{}}
}

func newFile() *inode { return &inode{dirty: map[int64]struct{}{}} }

// SetHook installs fn, called before every operation (see Op) with no lock
// held, so it may call Crash, CrashTorn or the fault setters. If it returns an
// error the operation fails with it and changes nothing. nil removes the hook.
func (f *FS) SetHook(fn func(Op) error) {
	f.mu.Lock()
	f.hook = fn
	f.mu.Unlock()
}

// Ops is the number of operations so far.
func (f *FS) Ops() int64 { return f.ops.Load() }

// begin counts an operation and runs the hook.
func (f *FS) begin(kind, path string) error {
	seq := f.ops.Add(1)
	f.mu.Lock()
	h := f.hook
	f.mu.Unlock()
	if h == nil {
		return nil
	}
	if err := h(Op{Seq: seq, Kind: kind, Path: path}); err != nil {
		return &fs.PathError{Op: kind, Path: path, Err: err}
	}
	return nil
}

func pathErr(op, path string, err error) error { return &fs.PathError{Op: op, Path: path, Err: err} }

// split turns a name into its components; the root has none.
func split(name string) []string {
	p := filepath.ToSlash(filepath.Clean("/" + name))
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}

// lookup finds the inode at parts through current entries.
func (f *FS) lookup(parts []string) (*inode, error) {
	n := f.root
	for _, p := range parts {
		if !n.dir {
			return nil, syscall.ENOTDIR
		}
		c := n.entries[p]
		if c == nil {
			return nil, syscall.ENOENT
		}
		n = c
	}
	return n, nil
}

// parent finds the directory holding name and name's last component.
func (f *FS) parent(name string) (*inode, string, error) {
	parts := split(name)
	if len(parts) == 0 {
		return nil, "", syscall.EBUSY // the root has no entry to change
	}
	d, err := f.lookup(parts[:len(parts)-1])
	if err != nil {
		return nil, "", err
	}
	if !d.dir {
		return nil, "", syscall.ENOTDIR
	}
	return d, parts[len(parts)-1], nil
}

// apply makes the changes current and queues them to become durable.
func (f *FS) apply(cs ...change) {
	for _, c := range cs {
		if c.node == nil {
			delete(c.dir.entries, c.name)
		} else {
			c.dir.entries[c.name] = c.node
		}
	}
	f.pending = append(f.pending, cs)
}

// OpenFile opens name. Flags as os.OpenFile: O_RDONLY, O_WRONLY, O_RDWR,
// O_CREATE, O_EXCL, O_TRUNC; others are refused. direct (O_DIRECT) gives a
// handle whose offsets, lengths and buffers must be 512-byte aligned.
func (f *FS) OpenFile(name string, flag int, perm os.FileMode, direct bool) (storage.File, error) {
	const known = os.O_RDONLY | os.O_WRONLY | os.O_RDWR | os.O_CREATE | os.O_EXCL | os.O_TRUNC
	if flag&^known != 0 {
		return nil, pathErr("open", name, syscall.EINVAL)
	}
	acc := flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR)
	writable := acc == os.O_WRONLY || acc == os.O_RDWR
	if flag&(os.O_CREATE|os.O_TRUNC) != 0 {
		if err := f.begin(OpCreate, name); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	d, base, err := f.parent(name)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	n := d.entries[base]
	switch {
	case n == nil && flag&os.O_CREATE == 0:
		return nil, pathErr("open", name, syscall.ENOENT)
	case n == nil:
		n = newFile()
		f.apply(change{d, base, n})
	case flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, pathErr("open", name, syscall.EEXIST)
	case n.dir:
		return nil, pathErr("open", name, syscall.EISDIR)
	}
	if flag&os.O_TRUNC != 0 && writable {
		n.truncate(0)
	}
	return &file{fs: f, n: n, name: name, read: acc != os.O_WRONLY, write: writable, direct: direct}, nil
}

// Remove removes a file or an empty directory.
func (f *FS) Remove(name string) error {
	if err := f.begin(OpRemove, name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	d, base, err := f.parent(name)
	if err != nil {
		return pathErr("remove", name, err)
	}
	n := d.entries[base]
	if n == nil {
		return pathErr("remove", name, syscall.ENOENT)
	}
	if n.dir && len(n.entries) > 0 {
		return pathErr("remove", name, syscall.ENOTEMPTY)
	}
	f.apply(change{d, base, nil})
	return nil
}

// Rename moves oldname to newname atomically, replacing a file (or an empty
// directory, if oldname is one) at newname.
func (f *FS) Rename(oldname, newname string) error {
	if err := f.begin(OpRename, oldname+" -> "+newname); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	od, ob, err := f.parent(oldname)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	nd, nb, err := f.parent(newname)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	src := od.entries[ob]
	if src == nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: syscall.ENOENT}
	}
	dst := nd.entries[nb]
	if dst == src {
		return nil
	}
	switch {
	case dst != nil && dst.dir && !src.dir:
		err = syscall.EISDIR
	case dst != nil && !dst.dir && src.dir:
		err = syscall.ENOTDIR
	case dst != nil && dst.dir && len(dst.entries) > 0:
		err = syscall.ENOTEMPTY
	case src.dir && f.under(nd, src):
		err = syscall.EINVAL // into its own subtree
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	f.apply(change{nd, nb, src}, change{od, ob, nil})
	return nil
}

// under reports whether d is dir or lies below it.
func (f *FS) under(d, dir *inode) bool {
	if d == dir {
		return true
	}
	for _, c := range dir.entries {
		if c.dir && f.under(d, c) {
			return true
		}
	}
	return false
}

// MkdirAll creates dir and any missing parents.
func (f *FS) MkdirAll(dir string, perm os.FileMode) error {
	if err := f.begin(OpMkdir, dir); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.root
	for _, p := range split(dir) {
		c := n.entries[p]
		if c == nil {
			c = newDir()
			f.apply(change{n, p, c})
		} else if !c.dir {
			return pathErr("mkdir", dir, syscall.ENOTDIR)
		}
		n = c
	}
	return nil
}

// ReadDir lists dir's current entries sorted by name.
func (f *FS) ReadDir(dir string) ([]fs.DirEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := f.lookup(split(dir))
	if err != nil {
		return nil, pathErr("readdir", dir, err)
	}
	if !d.dir {
		return nil, pathErr("readdir", dir, syscall.ENOTDIR)
	}
	names := slices.Sorted(maps.Keys(d.entries))
	out := make([]fs.DirEntry, len(names))
	for i, name := range names {
		n := d.entries[name]
		out[i] = dirEntry{name: name, dir: n.dir, size: int64(len(n.data))}
	}
	return out, nil
}

// SyncDir makes dir's entries durable as they are now.
func (f *FS) SyncDir(dir string) error {
	if err := f.begin(OpSyncDir, dir); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := f.lookup(split(dir))
	if err != nil {
		return pathErr("fsync", dir, err)
	}
	if !d.dir {
		return pathErr("fsync", dir, syscall.ENOTDIR)
	}
	if err := f.syncFault(dir); err != nil {
		// A failed directory fsync makes nothing durable; the operations
		// stay pending and a later SyncDir may still persist them.
		return pathErr("fsync", dir, err)
	}
	d.durEntries = maps.Clone(d.entries)
	kept := f.pending[:0]
	for _, g := range f.pending {
		g = slices.DeleteFunc(g, func(c change) bool { return c.dir == d })
		if len(g) > 0 {
			kept = append(kept, g)
		}
	}
	clear(f.pending[len(kept):])
	f.pending = kept
	return nil
}

// ReadFile returns name's current bytes (what a read sees now).
func (f *FS) ReadFile(name string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.lookup(split(name))
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	if n.dir {
		return nil, pathErr("read", name, syscall.EISDIR)
	}
	return slices.Clone(n.data), nil
}

type dirEntry struct {
	name string
	dir  bool
	size int64
}

func (e dirEntry) Name() string { return e.name }
func (e dirEntry) IsDir() bool  { return e.dir }
func (e dirEntry) Type() fs.FileMode {
	if e.dir {
		return fs.ModeDir
	}
	return 0
}
func (e dirEntry) Info() (fs.FileInfo, error) { return e, nil }
func (e dirEntry) Size() int64                { return e.size }
func (e dirEntry) Mode() fs.FileMode {
	if e.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (e dirEntry) ModTime() time.Time { return time.Time{} }
func (e dirEntry) Sys() any           { return nil }
