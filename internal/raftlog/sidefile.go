package raftlog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ailurus/ailurus/internal/storage"
)

// sideFile is the open side file of one store. Owned by the Store; every
// method is called with Store.wmu held (or before the store is shared).
type sideFile struct {
	fs   storage.FS
	dir  string
	path string
	f    storage.File // nil until the file first exists
	size int64        // bytes of header and valid records
}

// loadSide reads the side file of dir. exists is false if there is none. A
// torn tail is cut durably here, so that later appends never leave stale
// bytes between records.
func loadSide(fsys storage.FS, dir string) (sf *sideFile, h sideHeader, ents []sideEntry, exists bool, cut int64, err error) {
	sf = &sideFile{fs: fsys, dir: dir, path: filepath.Join(dir, sideFileName)}
	// A rewrite that did not reach its rename.
	if err := fsys.Remove(sf.path + ".tmp"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, h, nil, false, 0, fmt.Errorf("remove stale %s.tmp: %w", sf.path, err)
	}
	f, err := fsys.OpenFile(sf.path, os.O_RDWR, 0o644, false)
	if errors.Is(err, os.ErrNotExist) {
		return sf, h, nil, false, 0, nil
	}
	if err != nil {
		return nil, h, nil, false, 0, fmt.Errorf("open %s: %w", sf.path, err)
	}
	size, err := f.Size()
	if err != nil {
		f.Close()
		return nil, h, nil, false, 0, fmt.Errorf("stat %s: %w", sf.path, err)
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, h, nil, false, 0, fmt.Errorf("read %s: %w", sf.path, err)
	}
	if h, err = decodeSideHeader(b); err != nil {
		f.Close()
		return nil, h, nil, false, 0, fmt.Errorf("%s: %w", sf.path, err)
	}
	ents, n, err := decodeSideRecords(b[sideHeaderSize:])
	if err != nil {
		f.Close()
		return nil, h, nil, false, 0, fmt.Errorf("%s: %w", sf.path, err)
	}
	sf.f, sf.size = f, int64(sideHeaderSize+n)
	if sf.size < size {
		if err := f.Truncate(sf.size); err != nil {
			f.Close()
			return nil, h, nil, false, 0, fmt.Errorf("cut torn tail of %s: %w", sf.path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, h, nil, false, 0, fmt.Errorf("sync %s: %w", sf.path, err)
		}
	}
	return sf, h, ents, true, size - sf.size, nil
}

// append writes records at the end of the file and fsyncs it.
func (sf *sideFile) append(recs []byte) error {
	if sf.f == nil {
		return fmt.Errorf("append to %s: file not created", sf.path)
	}
	if _, err := sf.f.WriteAt(recs, sf.size); err != nil {
		return fmt.Errorf("write %s: %w", sf.path, err)
	}
	if err := sf.f.Sync(); err != nil {
		return fmt.Errorf("fdatasync %s: %w", sf.path, err)
	}
	sf.size += int64(len(recs))
	return nil
}

// rewrite replaces the whole file durably with h and ents: write a
// temporary file, fsync it, rename it over the old one, fsync the directory.
// A crash leaves the old or the new file, never a mix.
func (sf *sideFile) rewrite(h sideHeader, ents []sideEntry) error {
	b := encodeSideHeader(h)
	for _, e := range ents {
		b = appendSideRecord(b, e)
	}
	tmp := sf.path + ".tmp"
	f, err := sf.fs.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o644, false)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		f.Close()
		sf.fs.Remove(tmp)
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		sf.fs.Remove(tmp)
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := sf.fs.Rename(tmp, sf.path); err != nil {
		f.Close()
		sf.fs.Remove(tmp)
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	if err := sf.fs.SyncDir(sf.dir); err != nil {
		f.Close()
		return fmt.Errorf("sync dir %s: %w", sf.dir, err)
	}
	// The handle follows the inode: it is now the side file's.
	if sf.f != nil {
		sf.f.Close()
	}
	sf.f, sf.size = f, int64(len(b))
	return nil
}

func (sf *sideFile) close() error {
	if sf.f == nil {
		return nil
	}
	err := sf.f.Close()
	sf.f = nil
	return err
}
