package storage

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ailurus/ailurus/internal/batch"
)

// compactedSuffix names the files a rewrite builds next to the segment it
// replaces. Recovery deletes every *.tmp file, so a crash before the swap
// leaves the original segment.
const compactedSuffix = ".compacted.tmp"

// segResult is the outcome of one segment's rewrite.
type segResult struct {
	rewritten, abandoned bool
	before, after        int64 // bytes
	removed, tombstones  int64
}

// compactSegment filters the batches of ps and, if any changes, writes the
// result to a temporary segment and index and swaps them in. The log's
// lock is not held while reading or writing.
func (l *Log) compactSegment(ctx context.Context, ps planSeg, f *batchFilter) (segResult, error) {
	s := ps.s
	res := segResult{before: ps.size}
	ns := newSegmentStruct(l.env.FS, l.dir, s.baseOffset, s.term, ps.baseOrdinal)
	var w *compactWriter // nil until the first batch that changes
	defer func() {
		if w != nil {
			w.discard()
		}
	}()
	r := newSegReader(s, 0, ps.size)
	var pos, outPos int64 // in the old and the new file
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		h, b, err := r.next()
		if err == errSegmentEnd {
			break
		}
		if err != nil {
			if l.segmentChanged(ps) {
				res.abandoned = true
				return res, nil
			}
			return res, fmt.Errorf("%w: compacting %s: %w", ErrCorruptSegment, s.path, err)
		}
		out, v, err := f.filter(h, b)
		if err != nil {
			return res, err
		}
		if v.changed && w == nil {
			if w, err = l.createCompactWriter(s.path+compactedSuffix, ps.size); err != nil {
				return res, err
			}
			// Everything before this batch is unchanged: copy it.
			if err := w.copyFrom(s, 0, pos); err != nil {
				return res, err
			}
		}
		res.removed += v.removed
		res.tombstones += v.tombstones
		oh := h
		if v.changed {
			if oh, err = batch.Parse(out); err != nil {
				return res, fmt.Errorf("compaction rebuilt a bad batch at %d: %w", h.BaseOffset, err)
			}
		}
		if w != nil {
			if err := w.write(out); err != nil {
				return res, err
			}
		}
		ns.addBatch(oh, outPos, l.opts.IndexIntervalBytes)
		pos += h.Size()
		outPos += oh.Size()
	}
	if w == nil {
		return res, nil // nothing to remove here
	}
	if ns.batches != ps.batches || ns.nextOffset != ps.nextOffset || outPos != w.pos+int64(len(w.buf)) {
		return res, fmt.Errorf("compaction of %s would change it from %d batches ending at %d to %d ending at %d",
			s.path, ps.batches, ps.nextOffset, ns.batches, ns.nextOffset)
	}
	if err := w.finish(); err != nil {
		return res, err
	}
	idxTmp := s.indexPath + compactedSuffix
	if err := writeIndexFile(l.env.FS, idxTmp, ns); err != nil {
		l.env.FS.Remove(idxTmp)
		return res, err
	}
	ns.f, ns.size, ns.allocated, ns.sealed, ns.idxWritten = w.f, outPos, outPos, true, len(ns.idx)
	ns.synced = ns.mark() // all of it: w.finish synced the data
	swapped, err := l.swapCompacted(ps, ns, w.path, idxTmp)
	if swapped {
		w = nil // the file is the segment's now
		res.rewritten, res.after = true, outPos
	} else {
		l.env.FS.Remove(idxTmp)
		res.abandoned = err == nil
	}
	return res, err
}

// swapCompacted puts the rewritten segment ns (data in dataTmp, index in
// idxTmp, both synced) in place of ps.s, unless ps.s changed meanwhile. It
// reports whether it swapped.
//
// Order on disk, so that a crash at any point leaves the old segment whole
// or the new one, and never an index paired with the other data (recovery
// checks only an index's last entry against the data; a missing index is
// rebuilt from the data):
//  1. remove the old index, sync the directory;
//  2. rename the new data over the old, sync the directory;
//  3. rename the new index into place.
//
// mu is held for the checks and renames and for the one directory sync
// between 2 and 3, not for the rewrite nor the other syncs.
func (l *Log) swapCompacted(ps planSeg, ns *segment, dataTmp, idxTmp string) (bool, error) {
	s := ps.s
	l.mu.Lock()
	ok := l.unchangedLocked(ps)
	var err error
	if ok {
		if err = l.env.FS.Remove(s.indexPath); isNotExist(err) {
			err = nil
		}
	}
	l.mu.Unlock()
	if !ok || err != nil {
		return false, err
	}
	if err := l.env.FS.SyncDir(l.dir); err != nil {
		return false, fmt.Errorf("sync dir: %w", err)
	}

	l.mu.Lock()
	if !l.unchangedLocked(ps) {
		l.mu.Unlock()
		return false, nil
	}
	if err := l.env.FS.Rename(dataTmp, s.path); err != nil {
		l.mu.Unlock()
		return false, fmt.Errorf("rename %s: %w", dataTmp, err)
	}
	// The directory now names the new file: memory follows at once. Readers
	// that hold s keep reading its descriptor, the old inode.
	i := l.findSegment(s.baseOffset)
	l.replaceSegments(i, i+1, ns)
	s.removed = true
	s.release()
	if err := l.env.FS.SyncDir(l.dir); err != nil {
		err = l.fail(fmt.Errorf("sync dir after compacting %s: %w", filepath.Base(s.path), err))
		l.mu.Unlock()
		return true, err
	}
	idxErr := l.env.FS.Rename(idxTmp, ns.indexPath)
	l.mu.Unlock()
	if idxErr != nil {
		// Harmless: the next open rebuilds the index from the data.
		l.log.Warn("compacted segment index not installed", "segment", filepath.Base(s.path), "err", idxErr)
		l.env.FS.Remove(idxTmp)
		return true, nil
	}
	if err := l.env.FS.SyncDir(l.dir); err != nil {
		return true, fmt.Errorf("sync dir: %w", err)
	}
	return true, nil
}

// segmentChanged tells a planned segment that cannot be read because it was
// removed or cut meanwhile (no error) from a damaged one.
func (l *Log) segmentChanged(ps planSeg) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.unchangedLocked(ps)
}

// writeIndexFile writes s's index durably to path.
func writeIndexFile(fsys FS, path string, s *segment) error {
	f, err := fsys.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644, false)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	buf := encodeIndexHeader(s.baseOrdinal, s.baseOffset)
	for _, e := range s.idx {
		buf = appendIndexEntry(buf, e)
	}
	if _, err = f.WriteAt(buf, 0); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// errSegmentEnd ends a segReader's batches.
var errSegmentEnd = errors.New("end of segment")

// segReader reads the batches of a sealed segment in order, from a batch
// boundary up to limit, through a read-ahead buffer.
type segReader struct {
	s     *segment
	r     *bufio.Reader
	pos   int64
	limit int64
	buf   []byte
}

func newSegReader(s *segment, from, limit int64) *segReader {
	return &segReader{
		s:     s,
		r:     bufio.NewReaderSize(io.NewSectionReader(s.f, from, limit-from), int(min(max(limit-from, 4<<10), 1<<20))),
		pos:   from,
		limit: limit,
	}
}

// next returns the next batch, whole and CRC-checked, valid until the next
// call; errSegmentEnd at the limit.
func (r *segReader) next() (batch.Header, []byte, error) {
	if r.pos >= r.limit {
		return batch.Header{}, nil, errSegmentEnd
	}
	if cap(r.buf) < batch.HeaderSize {
		r.buf = make([]byte, 64<<10)
	}
	hdr := r.buf[:batch.HeaderSize]
	if _, err := io.ReadFull(r.r, hdr); err != nil {
		return batch.Header{}, nil, fmt.Errorf("read at %d: %w", r.pos, err)
	}
	h, err := batch.Parse(hdr)
	if err != nil {
		return h, nil, fmt.Errorf("at %d: %w", r.pos, err)
	}
	if r.pos+h.Size() > r.limit {
		return h, nil, fmt.Errorf("batch at %d runs past the segment end %d", r.pos, r.limit)
	}
	if int64(cap(r.buf)) < h.Size() {
		nb := make([]byte, h.Size())
		copy(nb, hdr)
		r.buf = nb
	}
	b := r.buf[:h.Size()]
	if _, err := io.ReadFull(r.r, b[batch.HeaderSize:]); err != nil {
		return h, nil, fmt.Errorf("read at %d: %w", r.pos, err)
	}
	if !batch.CheckCRC(b, h) {
		return h, nil, fmt.Errorf("batch at %d fails its CRC", r.pos)
	}
	r.pos += h.Size()
	return h, b, nil
}

// compactWriter writes a rewritten segment to its temporary file through a
// buffer. Until finish hands the file over, discard deletes it.
type compactWriter struct {
	fs   FS
	path string
	f    File
	pos  int64 // bytes written to f
	buf  []byte
}

const compactWriteBuf = 1 << 20

func (l *Log) createCompactWriter(path string, size int64) (*compactWriter, error) {
	// O_TRUNC: a leftover of an earlier failed pass (a crash's leftovers are
	// removed on open) is simply overwritten.
	f, err := l.env.FS.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o644, false)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &compactWriter{fs: l.env.FS, path: path, f: f, buf: make([]byte, 0, min(max(size, 4<<10), compactWriteBuf))}, nil
}

func (w *compactWriter) write(b []byte) error {
	if len(w.buf)+len(b) > cap(w.buf) {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if len(b) > cap(w.buf) {
		if _, err := w.f.WriteAt(b, w.pos); err != nil {
			return fmt.Errorf("write %s: %w", w.path, err)
		}
		w.pos += int64(len(b))
		return nil
	}
	w.buf = append(w.buf, b...)
	return nil
}

func (w *compactWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.f.WriteAt(w.buf, w.pos); err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	w.pos += int64(len(w.buf))
	w.buf = w.buf[:0]
	return nil
}

// copyFrom copies bytes [from, to) of s's file.
func (w *compactWriter) copyFrom(s *segment, from, to int64) error {
	for from < to {
		if err := w.flush(); err != nil {
			return err
		}
		n := min(to-from, int64(cap(w.buf)))
		chunk := w.buf[:n]
		if _, err := s.f.ReadAt(chunk, from); err != nil {
			return fmt.Errorf("read %s: %w", s.path, err)
		}
		w.buf = chunk
		from += n
	}
	return nil
}

// finish flushes and syncs the data.
func (w *compactWriter) finish() error {
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", w.path, err)
	}
	return nil
}

// discard closes and deletes the temporary file.
func (w *compactWriter) discard() {
	w.f.Close()
	w.fs.Remove(w.path)
}
