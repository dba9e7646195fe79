package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// The start checkpoint records where the log begins once its front has been
// cut (retention, DeleteRecords): {magic "ASC1", startOffset, firstBase,
// firstOrdinal, crc32c}. firstBase and firstOrdinal name the first kept
// segment and the ordinal of its first batch, which nothing else can tell once
// the segments before it are gone.
const (
	startCheckpointName = "start.ckpt"
	startCheckpointSize = 4 + 8*3 + 4
)

type startCheckpoint struct {
	startOffset, firstBase, firstOrdinal int64
}

func (c startCheckpoint) encode() []byte {
	b := make([]byte, startCheckpointSize)
	copy(b, "ASC1")
	binary.BigEndian.PutUint64(b[4:], uint64(c.startOffset))
	binary.BigEndian.PutUint64(b[12:], uint64(c.firstBase))
	binary.BigEndian.PutUint64(b[20:], uint64(c.firstOrdinal))
	binary.BigEndian.PutUint32(b[28:], crc32.Checksum(b[:28], castagnoli))
	return b
}

func decodeStartCheckpoint(b []byte) (startCheckpoint, error) {
	if len(b) != startCheckpointSize || string(b[:4]) != "ASC1" ||
		crc32.Checksum(b[:28], castagnoli) != binary.BigEndian.Uint32(b[28:]) {
		return startCheckpoint{}, errors.New("start checkpoint corrupt")
	}
	return startCheckpoint{
		startOffset:  int64(binary.BigEndian.Uint64(b[4:])),
		firstBase:    int64(binary.BigEndian.Uint64(b[12:])),
		firstOrdinal: int64(binary.BigEndian.Uint64(b[20:])),
	}, nil
}

// writeFileAtomic replaces dir/name with data durably: write a temporary
// file, fsync it, rename it over the old one, fsync the directory. A crash
// leaves either the old or the new file, never a mix; leftover .tmp files are
// removed on open.
func writeFileAtomic(fsys FS, dir, name string, data []byte) error {
	tmp := filepath.Join(dir, name+".tmp")
	f, err := fsys.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644, false)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		f.Close()
		fsys.Remove(tmp)
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		fsys.Remove(tmp)
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		fsys.Remove(tmp)
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := fsys.Rename(tmp, filepath.Join(dir, name)); err != nil {
		fsys.Remove(tmp)
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// readWholeFile reads a small file through fsys.
func readWholeFile(fsys FS, path string) ([]byte, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0, false)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n, err := f.Size()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b, nil
}
