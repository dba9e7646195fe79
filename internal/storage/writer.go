package storage

import (
	"fmt"
	"os"
	"unsafe"
)

// writer puts appended bytes into the active segment's file. Called under the
// Log's mu, one append at a time, always at the end of the valid data.
type writer interface {
	writeAt(b []byte, pos int64) error
	close() error
}

// bufferedWriter writes through the page cache; durability comes from the
// fdatasync of the group commit.
type bufferedWriter struct{ f File }

func (w bufferedWriter) writeAt(b []byte, pos int64) error {
	_, err := w.f.WriteAt(b, pos)
	return err
}

func (w bufferedWriter) close() error { return nil }

// directAlign is the O_DIRECT alignment of offsets, lengths and buffers.
const directAlign = 4096

// directWriter writes with O_DIRECT (Redpanda's DMA path): each append writes
// the aligned blocks it touches from an aligned buffer, re-writing the partial
// block at the tail with the bytes already there. The read handle (f) is a
// normal descriptor; the kernel keeps its page cache coherent with direct
// writes.
type directWriter struct {
	f, df File
	end   int64  // file position after the last written byte
	tail  []byte // bytes of the partial block [end&^(align-1), end)
	buf   []byte // aligned scratch, grows to the largest append
}

func openDirectWriter(fsys FS, path string, f File, end int64) (*directWriter, error) {
	df, err := fsys.OpenFile(path, os.O_WRONLY, 0o644, true)
	if err != nil {
		return nil, fmt.Errorf("open %s with O_DIRECT: %w", path, err)
	}
	w := &directWriter{f: f, df: df, tail: alignedBuf(directAlign)[:0]}
	if err := w.loadTail(end); err != nil {
		df.Close()
		return nil, err
	}
	return w, nil
}

func (w *directWriter) loadTail(end int64) error {
	start := end &^ (directAlign - 1)
	w.tail = w.tail[:end-start]
	if len(w.tail) > 0 {
		if _, err := w.f.ReadAt(w.tail, start); err != nil {
			return fmt.Errorf("read tail block: %w", err)
		}
	}
	w.end = end
	return nil
}

func (w *directWriter) writeAt(b []byte, pos int64) error {
	if pos != w.end {
		if err := w.loadTail(pos); err != nil {
			return err
		}
	}
	start := pos &^ (directAlign - 1)
	head := int(pos - start)
	total := head + len(b)
	padded := (total + directAlign - 1) &^ (directAlign - 1)
	if cap(w.buf) < padded {
		w.buf = alignedBuf(padded)
	}
	buf := w.buf[:padded]
	copy(buf, w.tail[:head])
	copy(buf[head:], b)
	clear(buf[total:])
	if _, err := w.df.WriteAt(buf, start); err != nil {
		return err
	}
	end := pos + int64(len(b))
	ts := end &^ (directAlign - 1)
	w.tail = w.tail[:end-ts]
	copy(w.tail, buf[ts-start:end-start])
	w.end = end
	return nil
}

func (w *directWriter) close() error { return w.df.Close() }

// alignedBuf returns n bytes whose start is aligned for O_DIRECT.
func alignedBuf(n int) []byte {
	raw := make([]byte, n+directAlign)
	off := directAlign - int(uintptr(unsafe.Pointer(&raw[0]))&(directAlign-1))
	if off == directAlign {
		off = 0
	}
	return raw[off : off+n : off+n]
}
