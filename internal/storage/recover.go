package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/ailurus/ailurus/internal/batch"
)

// recover rebuilds the log's state from its directory. The argument for why
// nothing acknowledged is lost and nothing torn is served is in README.md.
func (l *Log) recover() error {
	fsys := l.env.FS
	ents, err := fsys.ReadDir(l.dir)
	if err != nil {
		return err
	}
	type segFile struct{ base, term int64 }
	var files []segFile
	indexes := map[string]bool{}
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, ".tmp"):
			// An atomic replace that did not reach its rename.
			if err := fsys.Remove(filepath.Join(l.dir, name)); err != nil {
				return err
			}
		case strings.HasSuffix(name, "-v1.log"):
			base, term, ok := parseSegmentName(name)
			if !ok {
				l.log.Warn("ignoring file with a segment suffix and a bad name", "file", name)
				continue
			}
			files = append(files, segFile{base, term})
		case strings.HasSuffix(name, "-v1.index"):
			indexes[name] = true
		}
	}
	sort.Slice(files, func(i, j int) bool {
		if files[i].base != files[j].base {
			return files[i].base < files[j].base
		}
		return files[i].term < files[j].term
	})

	ckpt := startCheckpoint{firstOrdinal: -1}
	haveCkpt := false
	if b, err := readWholeFile(fsys, filepath.Join(l.dir, startCheckpointName)); err == nil {
		if ckpt, err = decodeStartCheckpoint(b); err != nil {
			return err
		}
		haveCkpt = true
	} else if !isNotExist(err) {
		return fmt.Errorf("read start checkpoint: %w", err)
	}

	if b, err := readWholeFile(fsys, filepath.Join(l.dir, compactCheckpointName)); err == nil {
		if ck, err := decodeCompactCheckpoint(b); err != nil {
			l.log.Warn("compaction checkpoint ignored; the next pass starts from the log start", "err", err)
		} else {
			c := &l.compaction
			c.cleanEnd, c.doneEnd, c.nextExpiry, c.done = ck.cleanEnd, ck.doneEnd, ck.nextExpiry, ck.done
		}
	} else if !isNotExist(err) {
		l.log.Warn("compaction checkpoint unreadable; the next pass starts from the log start", "err", err)
	}

	var prev *segment
	for i, sf := range files {
		last := i == len(files)-1
		name := segmentName(sf.base, sf.term)
		delete(indexes, indexNameFor(name))
		// A segment wholly below the start offset: its removal was cut short.
		if haveCkpt && !last && files[i+1].base <= ckpt.startOffset {
			if err := l.removeSegmentFiles(filepath.Join(l.dir, name)); err != nil {
				return err
			}
			continue
		}
		baseOrd := int64(-1)
		switch {
		case prev != nil:
			baseOrd = prev.baseOrdinal + prev.batches
		case haveCkpt && sf.base == ckpt.firstBase:
			baseOrd = ckpt.firstOrdinal
		}
		s := newSegmentStruct(fsys, l.dir, sf.base, sf.term, baseOrd)
		if err := l.recoverSegment(s, last); err != nil {
			return err
		}
		if prev != nil && s.baseOffset < prev.nextOffset {
			s.release()
			return fmt.Errorf("%w: %s starts at offset %d, inside %s which ends at %d",
				ErrCorruptSegment, s.path, s.baseOffset, prev.path, prev.nextOffset)
		}
		if prev != nil && prev.batches == 0 && prev.baseOffset == s.baseOffset {
			// An empty segment replaced by one of a newer term at the same
			// base: the replacement's removal of it was cut short.
			l.segs = l.segs[:len(l.segs)-1]
			prev.release()
			if err := l.removeSegmentFiles(prev.path); err != nil {
				return err
			}
		}
		l.segs = append(l.segs, s)
		prev = s
	}
	for name := range indexes {
		if err := fsys.Remove(filepath.Join(l.dir, name)); err != nil {
			return err
		}
	}
	if haveCkpt {
		l.startOffset = ckpt.startOffset
	}
	if len(l.segs) == 0 {
		ord := int64(0)
		if haveCkpt {
			ord = ckpt.firstOrdinal
		}
		s, err := l.createSegment(l.startOffset, 0, ord)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
		return nil
	}
	if first := l.segs[0].baseOffset; l.startOffset < first {
		l.startOffset = first
	}
	if end := l.active().nextOffset; l.startOffset > end {
		return fmt.Errorf("%w: start offset %d is past the log end %d", ErrCorruptSegment, l.startOffset, end)
	}
	a := l.active()
	if err := l.activate(a); err != nil {
		return err
	}
	// The index just rewritten may replace one that points into data a crash
	// took away: make it durable before new batches land there, or the next
	// recovery could trust the old entries (wrong ordinals, reads mid-batch).
	if err := a.idxFile.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", a.indexPath, err)
	}
	return nil
}

// recoverSegment loads s's index, checks it against the data, scans the data
// after the last trusted index entry, and cuts a torn tail (last segment
// only: a sealed segment was fully synced before the next one was created, so
// damage there is corruption and opening fails).
func (l *Log) recoverSegment(s *segment, last bool) error {
	fsys := l.env.FS
	f, err := fsys.OpenFile(s.path, os.O_RDWR, 0o644, false)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	s.f = f
	fileSize, err := f.Size()
	if err != nil {
		s.release()
		return err
	}

	var entries []indexEntry
	indexOK := false
	if b, err := readWholeFile(fsys, s.indexPath); err == nil {
		var hdrOrd int64
		if hdrOrd, entries, err = decodeIndex(b, s.baseOffset); err == nil {
			indexOK = len(b) == indexHeaderSize+len(entries)*indexEntrySize
			switch {
			case s.baseOrdinal < 0:
				s.baseOrdinal = hdrOrd
			case hdrOrd != s.baseOrdinal:
				entries, indexOK = nil, false
			}
		}
	}
	if s.baseOrdinal < 0 {
		s.baseOrdinal = 0
	}
	// Trust the newest entries only if they point at batches that are there.
	for len(entries) > 0 {
		e := entries[len(entries)-1]
		if int64(e.pos) < fileSize && l.entryMatches(s, e) {
			break
		}
		entries, indexOK = entries[:len(entries)-1], false
	}
	from := indexEntry{maxTsBefore: noTimestamp}
	if len(entries) > 0 {
		from = entries[len(entries)-1]
		s.idx = entries[:len(entries)-1] // the scan re-adds the last one
		if len(s.idx) > 0 {
			s.lastIdxPos = int64(s.idx[len(s.idx)-1].pos)
		}
	}
	s.size = int64(from.pos)
	s.batches = int64(from.relOrdinal)
	s.nextOffset = s.baseOffset + int64(from.relOffset)
	s.maxTs = from.maxTsBefore
	nIdx := len(entries)

	end, err := l.scan(s, int64(from.pos), fileSize)
	if err != nil {
		s.release()
		return err
	}
	indexOK = indexOK && len(s.idx) == nIdx
	if end < fileSize {
		if !last {
			s.release()
			return fmt.Errorf("%w: %s has %d bytes but valid batches end at %d", ErrCorruptSegment, s.path, fileSize, end)
		}
		// The torn or preallocated tail goes, so that stale bytes can never
		// be read back as batches after later appends and another crash.
		if err := f.Truncate(end); err != nil {
			s.release()
			return fmt.Errorf("cut torn tail of %s: %w", s.path, err)
		}
		if err := f.Sync(); err != nil {
			s.release()
			return fmt.Errorf("sync %s: %w", s.path, err)
		}
		if cut := fileSize - end; cut > 0 {
			l.stats.TruncatedOff.Add(cut)
			l.log.Info("partition log recovered", "segment", filepath.Base(s.path), "valid_bytes", end, "cut_bytes", cut)
		}
	}
	if last && end == fileSize {
		// Bytes an earlier run left dirty count as on disk once synced.
		if err := f.Sync(); err != nil {
			s.release()
			return fmt.Errorf("sync %s: %w", s.path, err)
		}
	}
	s.synced = s.mark()
	s.allocated = end
	s.sealed = !last
	s.idxWritten = len(s.idx)
	if !indexOK && !last {
		if err := l.rewriteIndex(s, true); err != nil {
			s.release()
			return err
		}
	}
	return nil
}

// entryMatches checks that an index entry points at a batch with the offset
// it claims.
func (l *Log) entryMatches(s *segment, e indexEntry) bool {
	var hdr [batch.HeaderSize]byte
	if _, err := s.f.ReadAt(hdr[:], int64(e.pos)); err != nil {
		return false
	}
	h, err := batch.Parse(hdr[:])
	return err == nil && h.Magic == 2 && h.BaseOffset == s.baseOffset+int64(e.relOffset)
}

// scanBufs holds scan's read buffers: a restart scans the tail of every
// partition's log, and a fresh 64 KiB buffer for each was most of the
// garbage a shard made opening 10,000 partitions.
var scanBufs = sync.Pool{New: func() any { return new([scanBufSize]byte) }}

const scanBufSize = 64 << 10

// scan walks whole batches from pos until limit or the first batch that is
// torn, fails its CRC, or breaks offset order, adding each good one to s. It
// returns the end of the last good batch.
func (l *Log) scan(s *segment, pos, limit int64) (int64, error) {
	if pos+batch.HeaderSize > limit {
		return pos, nil
	}
	pooled := scanBufs.Get().(*[scanBufSize]byte)
	defer scanBufs.Put(pooled)
	buf := pooled[:]
	for pos+batch.HeaderSize <= limit {
		if _, err := s.f.ReadAt(buf[:batch.HeaderSize], pos); err != nil {
			return pos, fmt.Errorf("read %s at %d: %w", s.path, pos, err)
		}
		h, err := batch.Parse(buf[:batch.HeaderSize])
		if err != nil || h.Magic != 2 || pos+h.Size() > limit {
			break
		}
		if (s.batches == 0 && h.BaseOffset != s.baseOffset) || h.BaseOffset < s.nextOffset {
			break
		}
		if int64(cap(buf)) < h.Size() {
			buf = make([]byte, h.Size())
		}
		b := buf[:h.Size()]
		if _, err := s.f.ReadAt(b, pos); err != nil {
			return pos, fmt.Errorf("read %s at %d: %w", s.path, pos, err)
		}
		if !batch.CheckCRC(b, h) {
			break
		}
		s.addBatch(h, pos, l.opts.IndexIntervalBytes)
		pos += h.Size()
	}
	return pos, nil
}

// rewriteIndex writes s's whole index file from memory; with sync, durably.
func (l *Log) rewriteIndex(s *segment, sync bool) error {
	f, err := l.env.FS.OpenFile(s.indexPath, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644, false)
	if err != nil {
		return fmt.Errorf("create index: %w", err)
	}
	buf := encodeIndexHeader(s.baseOrdinal, s.baseOffset)
	for _, e := range s.idx {
		buf = appendIndexEntry(buf, e)
	}
	if _, err := f.WriteAt(buf, 0); err != nil {
		f.Close()
		return fmt.Errorf("write index: %w", err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("sync index: %w", err)
		}
	}
	s.idxWritten = len(s.idx)
	if s.sealed {
		return f.Close()
	}
	if s.idxFile != nil {
		s.idxFile.Close()
	}
	s.idxFile = f
	return nil
}

// activate makes s the active segment: index file open for appends, writer.
func (l *Log) activate(s *segment) error {
	s.sealed = false
	if err := l.rewriteIndex(s, false); err != nil {
		return err
	}
	if l.opts.Direct {
		w, err := openDirectWriter(l.env.FS, s.path, s.f, s.size)
		if err != nil {
			return err
		}
		s.w = w
	} else {
		s.w = bufferedWriter{s.f}
	}
	if s.batches > 0 {
		s.firstWrite = l.env.Now()
	}
	return nil
}

// createSegment makes a new, empty, durable segment (file and index created,
// directory synced) and activates it.
func (l *Log) createSegment(base, term, ordinal int64) (*segment, error) {
	s := newSegmentStruct(l.env.FS, l.dir, base, term, ordinal)
	f, err := l.env.FS.OpenFile(s.path, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644, false)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	s.f = f
	if err := l.activate(s); err != nil {
		s.release()
		l.env.FS.Remove(s.path)
		return nil, err
	}
	if err := l.env.FS.SyncDir(l.dir); err != nil {
		s.release()
		return nil, fmt.Errorf("sync dir: %w", err)
	}
	return s, nil
}

func (l *Log) removeSegmentFiles(path string) error {
	if err := l.env.FS.Remove(path); err != nil && !isNotExist(err) {
		return err
	}
	idx := strings.TrimSuffix(path, ".log") + ".index"
	if err := l.env.FS.Remove(idx); err != nil && !isNotExist(err) {
		return err
	}
	return nil
}
