package storage

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// FS is the filesystem the log writes through: the operating system in
// production (OS), a fault-injecting one in tests. Methods may block on IO and
// are called from any goroutine.
type FS interface {
	// OpenFile opens name like os.OpenFile. direct asks for O_DIRECT; an FS
	// that cannot do it returns an error.
	OpenFile(name string, flag int, perm os.FileMode, direct bool) (File, error)
	Remove(name string) error
	Rename(oldname, newname string) error
	MkdirAll(dir string, perm os.FileMode) error
	ReadDir(dir string) ([]fs.DirEntry, error)
	// SyncDir makes the directory's entries (creations, renames, removals)
	// durable. A new file counts as durable only once its directory is synced.
	SyncDir(dir string) error
}

// File is an open file. ReadAt may be called concurrently with everything
// else; the other methods are called by one writer at a time.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	// Sync makes the file's data (and the metadata needed to read it back,
	// such as its size) durable: fdatasync.
	Sync() error
	Truncate(size int64) error
	// Allocate reserves disk blocks for [off, off+n) and extends the file size
	// to cover them (fallocate without KEEP_SIZE).
	Allocate(off, n int64) error
	Size() (int64, error)
	Name() string
}

// OSFile is implemented by files backed by a real descriptor, so a server can
// sendfile(2) straight from them.
type OSFile interface {
	OS() *os.File
}

// OS is the operating system's filesystem.
var OS FS = osFS{}

type osFS struct{}

type osFile struct{ *os.File }

var (
	_ FS     = osFS{}
	_ File   = osFile{}
	_ OSFile = osFile{}
)

func (osFS) OpenFile(name string, flag int, perm os.FileMode, direct bool) (File, error) {
	if direct {
		flag |= unix.O_DIRECT
	}
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Remove(name string) error                    { return os.Remove(name) }
func (osFS) Rename(o, n string) error                    { return os.Rename(o, n) }
func (osFS) MkdirAll(dir string, perm os.FileMode) error { return os.MkdirAll(dir, perm) }
func (osFS) ReadDir(dir string) ([]fs.DirEntry, error)   { return os.ReadDir(dir) }

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(filepath.Clean(dir))
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// mkdirDurable creates dir and any missing parents so that they survive a
// crash: a new directory is durable only once the directory holding it is
// synced. The parents of the directories it creates must sync; the other
// ancestors, up to the root, are synced best-effort, which also makes durable
// the directories of an earlier attempt that failed before its syncs (and
// costs little: an fsync of an unchanged directory writes nothing).
func mkdirDurable(fsys FS, dir string) error {
	dir = filepath.Clean(dir)
	existing := dir // the deepest of dir and its ancestors that exists now
	for {
		if _, err := fsys.ReadDir(existing); err == nil {
			break
		}
		p := filepath.Dir(existing)
		if p == existing {
			break
		}
		existing = p
	}
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for d := dir; ; {
		p := filepath.Dir(d)
		if p == d {
			return nil
		}
		// p holds d's entry; d is new if it lies below existing.
		if err := fsys.SyncDir(p); err != nil && len(d) > len(existing) {
			return err
		}
		d = p
	}
}

func (f osFile) OS() *os.File { return f.File }

func (f osFile) Sync() error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			if err != nil {
				return &os.PathError{Op: "fdatasync", Path: f.File.Name(), Err: err}
			}
			return nil
		}
	}
}

func (f osFile) Allocate(off, n int64) error {
	for {
		err := unix.Fallocate(int(f.Fd()), 0, off, n)
		switch err {
		case unix.EINTR:
			continue
		case unix.EOPNOTSUPP, unix.ENOSYS:
			return nil // the filesystem cannot preallocate; appends still work
		case nil:
			return nil
		default:
			return &os.PathError{Op: "fallocate", Path: f.File.Name(), Err: err}
		}
	}
}

func (f osFile) Size() (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
