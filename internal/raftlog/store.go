package raftlog

import (
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/storage"
)

// Env carries the store's dependencies. Zero fields get production defaults.
type Env struct {
	// FS is the filesystem the side file is written through; default
	// storage.OS. Tests pass a fault-injecting one.
	FS     storage.FS
	Logger *slog.Logger // default slog.Default()
}

// Store is the Raft LogStore of one partition. It is created by the
// partition's owner (the shard) once the partition's storage.Log is open,
// handed to raft.NewRaft, and closed after raft has shut down and before the
// storage.Log is closed. It does not own the storage.Log: the caller opens
// and closes that. Nothing else may Append to or truncate the storage.Log
// while the store is open: every batch in it from the store's anchor on is
// a Raft entry.
//
// All methods are safe for concurrent use. Raft calls StoreLogs and
// DeleteRange from its main goroutine (compaction from its snapshot
// goroutine), GetLog from the main, FSM-feeding and replication goroutines.
// StoreLogs blocks for an fsync; GetLog blocks for at most one pread and
// never waits for a StoreLogs.
type Store struct {
	log *storage.Log
	lg  *slog.Logger

	wmu sync.Mutex // serialises writers (StoreLogs, DeleteRange), held across IO
	sf  *sideFile  // guarded by wmu

	mu sync.Mutex // guards the fields below; never held across IO
	// first is the Raft index of the anchor (FirstIndex unless Kafka
	// retention has removed batches above it); 0 before the first entry.
	first uint64
	// firstOrd is the ordinal of the first batch entry at or after first.
	firstOrd int64
	// count is the number of entries, batches and side entries, in
	// [first, first+count). 0: empty, FirstIndex and LastIndex are 0.
	count uint64
	// side holds the non-batch entries in [first, first+count), by index.
	side   []sideEntry
	failed error
	closed bool

	// gen is bumped before batches are truncated: read-ahead runs read
	// under an older generation are discarded.
	gen   atomic.Uint64
	cache readCache
}

var (
	_ raft.LogStore = (*Store)(nil)
)

// Open recovers the store of the partition whose log is l: it reads the side
// file in l.Dir(), cuts a torn tail, and drops side entries that the batches
// in l no longer back (a crash between the side file's fsync and the
// batches'). l must be open and must not be appended to by anyone else.
func Open(l *storage.Log, env Env) (*Store, error) {
	if env.FS == nil {
		env.FS = storage.OS
	}
	if env.Logger == nil {
		env.Logger = slog.Default()
	}
	s := &Store{log: l, lg: env.Logger.With("subsys", "raftlog", "dir", l.Dir())}
	sf, h, ents, exists, cut, err := loadSide(env.FS, l.Dir())
	if err != nil {
		return nil, fmt.Errorf("open raft log %s: %w", l.Dir(), err)
	}
	s.sf = sf
	if cut > 0 {
		s.lg.Info("raft side file torn tail cut", "cut_bytes", cut)
	}
	next := l.NextOrdinal()
	if !exists {
		if next > 0 {
			sf.close()
			return nil, fmt.Errorf("open raft log %s: %w: no side file but the partition log holds %d batches",
				l.Dir(), ErrCorrupt, next)
		}
		s.firstOrd = next
		return s, nil
	}
	if err := s.recover(h, ents, next); err != nil {
		sf.close()
		return nil, fmt.Errorf("open raft log %s: %w", l.Dir(), err)
	}
	return s, nil
}

// recover rebuilds the in-memory state from the side file and the number of
// batches in the partition log. Entries are contiguous from the anchor: walk
// the side entries, giving the indexes between them to batches, and stop at
// the first side entry that would need a batch the log does not have.
func (s *Store) recover(h sideHeader, ents []sideEntry, next int64) error {
	s.first, s.firstOrd = h.firstIndex, h.firstOrdinal
	rewrite := false
	if next < s.firstOrd {
		// Batches below the anchor are gone (write caching lost an
		// unflushed tail): no batch can be counted, re-anchor at the end.
		s.lg.Warn("partition log ends before the raft anchor", "anchor_ordinal", s.firstOrd, "next_ordinal", next)
		s.firstOrd, rewrite = next, true
	}
	idx, ord, keep := s.first, s.firstOrd, 0
	for _, e := range ents {
		if e.index < idx {
			return fmt.Errorf("%w: side entry %d below anchor %d", ErrCorrupt, e.index, s.first)
		}
		need := int64(e.index - idx)
		if ord+need > next {
			break
		}
		ord += need
		idx = e.index + 1
		keep++
	}
	if keep < len(ents) {
		s.lg.Info("raft side entries past the durable batches dropped",
			"from_index", ents[keep].index, "entries", len(ents)-keep)
		rewrite = true
	}
	s.side = ents[:keep]
	s.count = idx - s.first + uint64(next-ord)
	if rewrite {
		return s.sf.rewrite(sideHeader{s.first, s.firstOrd}, s.side)
	}
	return nil
}

// Close closes the side file. It does not close the partition log. Later
// calls return ErrClosed.
func (s *Store) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return s.sf.close()
}

// FirstIndex is the first Raft index stored, 0 if none. Normally the anchor;
// if Kafka retention has removed batches at or above it, the index after
// the newest removed batch.
func (s *Store) FirstIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	if s.count == 0 {
		return 0, nil
	}
	return s.effectiveFirst(), nil
}

// LastIndex is the last Raft index stored, 0 if none.
func (s *Store) LastIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	if s.count == 0 {
		return 0, nil
	}
	return s.first + s.count - 1, nil
}

// effectiveFirst (mu held, count > 0) is first, moved past batches that
// Kafka retention removed. It takes the partition log's lock.
func (s *Store) effectiveFirst() uint64 {
	fo := s.log.FirstOrdinal()
	if fo <= s.firstOrd {
		return s.first
	}
	return min(s.indexOfOrdinal(fo-1)+1, s.first+s.count)
}

// nextOrdinal (mu held) is the ordinal the next batch entry gets.
func (s *Store) nextOrdinal() int64 {
	return s.firstOrd + int64(s.count) - int64(len(s.side))
}

// sideBefore (mu held) is the number of side entries with index < idx.
func (s *Store) sideBefore(idx uint64) int {
	return sort.Search(len(s.side), func(i int) bool { return s.side[i].index >= idx })
}

// ordinalAt (mu held, first <= idx <= first+count) is the ordinal of the
// batch at idx, or, if idx is a side entry or the end, of the next batch.
func (s *Store) ordinalAt(idx uint64) int64 {
	return s.firstOrd + int64(idx-s.first) - int64(s.sideBefore(idx))
}

// indexOfOrdinal (mu held, firstOrd <= ord < nextOrdinal) is the Raft index
// of the batch with ordinal ord: its position counting batches only, pushed
// up by every side entry at or before it.
func (s *Store) indexOfOrdinal(ord int64) uint64 {
	idx := s.first + uint64(ord-s.firstOrd)
	for _, e := range s.side {
		if e.index > idx {
			break
		}
		idx++
	}
	return idx
}

// usable (mu held) reports why the store cannot be written, if it cannot.
func (s *Store) usable() error {
	if s.closed {
		return ErrClosed
	}
	return s.failed
}

// fail (mu held) makes the store refuse writes until reopened.
func (s *Store) fail(err error) error {
	if s.failed == nil {
		s.failed = fmt.Errorf("%w: %w", ErrFailed, err)
		s.lg.Error("raft log store failed; reopen to recover", "err", err)
	}
	return s.failed
}
