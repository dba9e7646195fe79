package storage

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ailurus/ailurus/internal/batch"
)

// segment is one file of the log: whole batches from baseOffset on, all
// written in one term or more (a term change rolls the log, so in practice
// one). Its fields other than refs are guarded by the owning Log's mu; the file
// handles are safe for concurrent ReadAt.
//
// Lifecycle: created (or recovered) by the Log, active while it is the last
// segment, closed (sealed, file truncated to its data, index complete) when
// the log rolls, removed by retention, prefix deletion or suffix truncation.
// The file is closed when the last reader releases it (refs).
type segment struct {
	fs          FS
	path        string // data file
	indexPath   string
	baseOffset  int64
	term        int64
	baseOrdinal int64 // ordinal of the first batch of this segment

	f       File // read/write handle; reads may go through it concurrently
	w       writer
	idxFile File // index file, open while the segment is active; nil after seal

	size       int64 // bytes of whole, valid batches
	allocated  int64 // file size reserved by preallocation (>= size while active)
	nextOffset int64 // offset after the last batch; baseOffset when empty
	batches    int64 // number of batches
	maxTs      int64 // newest MaxTimestamp in the segment; noTimestamp when empty
	firstWrite time.Time

	idx        []indexEntry
	idxWritten int   // entries already written to the index file
	lastIdxPos int64 // position of the newest index entry; -1 before the first

	// synced is the state at the last fdatasync that succeeded: the prefix
	// of the file known to be on disk (see Log.dropUnsynced).
	synced syncedMark

	sealed  bool
	removed bool
	refs    atomic.Int32 // one for the log, one per outstanding reader
}

// segmentName is <base_offset>-<term>-v1.log, as the design names it.
func segmentName(base, term int64) string {
	return strconv.FormatInt(base, 10) + "-" + strconv.FormatInt(term, 10) + "-v1.log"
}

func indexNameFor(logName string) string { return strings.TrimSuffix(logName, ".log") + ".index" }

// parseSegmentName returns the base offset and term of a segment file name.
func parseSegmentName(name string) (base, term int64, ok bool) {
	s, found := strings.CutSuffix(name, "-v1.log")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	base, err1 := strconv.ParseInt(a, 10, 64)
	term, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || base < 0 || term < -1 {
		return 0, 0, false
	}
	return base, term, true
}

func newSegmentStruct(fsys FS, dir string, base, term, baseOrdinal int64) *segment {
	name := segmentName(base, term)
	s := &segment{
		fs:          fsys,
		path:        filepath.Join(dir, name),
		indexPath:   filepath.Join(dir, indexNameFor(name)),
		baseOffset:  base,
		term:        term,
		baseOrdinal: baseOrdinal,
		nextOffset:  base,
		maxTs:       noTimestamp,
		lastIdxPos:  -1,
	}
	s.refs.Store(1)
	s.synced = s.mark()
	return s
}

// syncedMark is a segment's extent at one moment: enough to cut it back there.
type syncedMark struct{ size, batches, nextOffset, maxTs int64 }

func (s *segment) mark() syncedMark { return syncedMark{s.size, s.batches, s.nextOffset, s.maxTs} }

// acquire takes a reader's reference; false if the segment is already gone.
func (s *segment) acquire() bool {
	for {
		n := s.refs.Load()
		if n <= 0 {
			return false
		}
		if s.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release drops a reference; the last one closes the files.
func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		s.f.Close()
		if s.idxFile != nil {
			s.idxFile.Close()
		}
	}
}

// addBatch records a batch just written at pos: index entry, counters.
func (s *segment) addBatch(h batch.Header, pos int64, interval int64) {
	if s.lastIdxPos < 0 || pos-s.lastIdxPos >= interval {
		s.idx = append(s.idx, indexEntry{
			relOffset:   uint32(h.BaseOffset - s.baseOffset),
			pos:         uint32(pos),
			relOrdinal:  uint32(s.batches),
			maxTsBefore: s.maxTs,
		})
		s.lastIdxPos = pos
	}
	s.size = pos + h.Size()
	s.nextOffset = h.NextOffset()
	s.batches++
	if h.MaxTimestamp > s.maxTs {
		s.maxTs = h.MaxTimestamp
	}
}

// writePendingIndex appends the index entries not yet in the index file. It
// does not sync: the index is rebuilt from the data if it is lost.
func (s *segment) writePendingIndex() error { return s.writePendingIndexBelow(s.size) }

// How far the active segment's index file may lag its index in memory
// (which reads use). Writing the new entries after every group commit made
// each fdatasync's journal commit carry the index file's inode too: 30%
// slower fdatasyncs on ext4 here (p50 332 against 255 us for 5 KiB
// appends). A lagging index file only lengthens recovery's scan of the
// tail, by at most indexLagBytes of data; sealing and closing write it all.
const (
	indexLagEntries = 4096 / indexEntrySize // a page of entries
	indexLagBytes   = 4 << 20
)

// indexDue says whether the entries of batches below limit (durable) that
// are not in the index file yet are a page, or cover indexLagBytes.
func (s *segment) indexDue(limit int64) bool {
	n := s.idxWritten
	if n >= len(s.idx) || int64(s.idx[n].pos) >= limit {
		return false
	}
	if len(s.idx)-n >= indexLagEntries {
		return true
	}
	return limit-int64(s.idx[n].pos) >= indexLagBytes
}

// writePendingIndexBelow writes the pending entries of batches that start
// below limit, a batch boundary known durable: the index on disk then never
// points past durable data, which recovery relies on (it checks only the
// newest entry, so an entry past a lost page could hide a hole before it).
func (s *segment) writePendingIndexBelow(limit int64) error {
	n := s.idxWritten
	for n < len(s.idx) && int64(s.idx[n].pos) < limit {
		n++
	}
	if s.idxFile == nil || n == s.idxWritten {
		return nil
	}
	var buf []byte
	for _, e := range s.idx[s.idxWritten:n] {
		buf = appendIndexEntry(buf, e)
	}
	off := int64(indexHeaderSize + s.idxWritten*indexEntrySize)
	if _, err := s.idxFile.WriteAt(buf, off); err != nil {
		return fmt.Errorf("write index %s: %w", s.indexPath, err)
	}
	s.idxWritten = n
	return nil
}

// info describes the segment for callers outside the package.
func (s *segment) info() SegmentInfo {
	return SegmentInfo{
		Path:        s.path,
		BaseOffset:  s.baseOffset,
		NextOffset:  s.nextOffset,
		Term:        s.term,
		Size:        s.size,
		MaxTime:     s.maxTs,
		Batches:     s.batches,
		BaseOrdinal: s.baseOrdinal,
		Sealed:      s.sealed,
	}
}

// SegmentInfo is a snapshot of one segment's metadata.
type SegmentInfo struct {
	Path        string
	BaseOffset  int64
	NextOffset  int64 // offset after the last batch
	Term        int64
	Size        int64 // bytes
	MaxTime     int64 // newest record timestamp, ms; math.MinInt64 when empty
	Batches     int64
	BaseOrdinal int64
	Sealed      bool // closed: no more appends
}
