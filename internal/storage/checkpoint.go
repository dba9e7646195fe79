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

// A checkpoint file is {4-byte magic, n big-endian int64 fields, crc32c of
// what precedes it}.
func encodeCheckpoint(magic string, fields ...int64) []byte {
	b := append(make([]byte, 0, 4+8*len(fields)+4), magic...)
	for _, f := range fields {
		b = binary.BigEndian.AppendUint64(b, uint64(f))
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// decodeCheckpoint returns the n fields of a checkpoint with this magic.
func decodeCheckpoint(b []byte, magic string, n int) ([]int64, error) {
	body := len(b) - 4
	if len(b) != 4+8*n+4 || string(b[:4]) != magic ||
		crc32.Checksum(b[:body], castagnoli) != binary.BigEndian.Uint32(b[body:]) {
		return nil, errors.New("corrupt")
	}
	fields := make([]int64, n)
	for i := range fields {
		fields[i] = int64(binary.BigEndian.Uint64(b[4+8*i:]))
	}
	return fields, nil
}

// The start checkpoint records where the log begins once its front has been
// cut (retention, DeleteRecords): {magic "ASC1", startOffset, firstBase,
// firstOrdinal, crc32c}. firstBase and firstOrdinal name the first kept
// segment and the ordinal of its first batch, which nothing else can tell once
// the segments before it are gone.
const startCheckpointName = "start.ckpt"

type startCheckpoint struct {
	startOffset, firstBase, firstOrdinal int64
}

func (c startCheckpoint) encode() []byte {
	return encodeCheckpoint("ASC1", c.startOffset, c.firstBase, c.firstOrdinal)
}

func decodeStartCheckpoint(b []byte) (startCheckpoint, error) {
	f, err := decodeCheckpoint(b, "ASC1", 3)
	if err != nil {
		return startCheckpoint{}, fmt.Errorf("start checkpoint %w", err)
	}
	return startCheckpoint{startOffset: f[0], firstBase: f[1], firstOrdinal: f[2]}, nil
}

// The compaction checkpoint records where the last compaction pass left off,
// so that a reopened log does not compact from its start again:
// {magic "ACC1", cleanEnd, doneEnd, nextExpiry, done (0 or 1), crc32c}. It
// is only a hint: a missing or damaged one means compacting from the start,
// which is correct, only slower.
const compactCheckpointName = "compact.ckpt"

type compactCheckpoint struct {
	cleanEnd, doneEnd, nextExpiry int64
	done                          bool
}

func (c compactCheckpoint) encode() []byte {
	done := int64(0)
	if c.done {
		done = 1
	}
	return encodeCheckpoint("ACC1", c.cleanEnd, c.doneEnd, c.nextExpiry, done)
}

func decodeCompactCheckpoint(b []byte) (compactCheckpoint, error) {
	f, err := decodeCheckpoint(b, "ACC1", 4)
	if err == nil && f[3] != 0 && f[3] != 1 {
		err = errors.New("corrupt")
	}
	if err != nil {
		return compactCheckpoint{}, fmt.Errorf("compaction checkpoint %w", err)
	}
	return compactCheckpoint{cleanEnd: f[0], doneEnd: f[1], nextExpiry: f[2], done: f[3] == 1}, nil
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
