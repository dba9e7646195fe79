package raftlog

import (
	"fmt"
)

// DeleteRange removes the entries [min, max]. hashicorp/raft calls it for
// two different things, told apart by whether the range reaches LastIndex:
//
//   - max >= LastIndex: a follower discarding a divergent, uncommitted tail
//     (AppendEntries conflict). The batches go from the partition log
//     (storage TruncateOrdinal) and the side entries from the side file:
//     the Kafka log must hold exactly the leader's batches.
//   - max < LastIndex and min <= FirstIndex: compaction after a Raft
//     snapshot. Kafka data is NOT deleted: Kafka retention owns it. The
//     store only moves its anchor to max+1 (persisted in the side file
//     header), so Raft sees the prefix as gone.
//
// Compaction never reaches LastIndex while raft.Config.TrailingLogs >= 1
// (CheckConfig), so the two cannot be confused. A range strictly inside the
// log is refused (ErrHole); a range outside it is a no-op.
func (s *Store) DeleteRange(min, max uint64) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	if err := s.usable(); err != nil {
		s.mu.Unlock()
		return err
	}
	if s.count == 0 || min > max {
		s.mu.Unlock()
		return nil
	}
	first, last := s.effectiveFirst(), s.first+s.count-1
	s.mu.Unlock()
	switch {
	case min > last || max < first:
		return nil
	case max >= last:
		return s.truncateFrom(max64(min, first))
	case min <= first:
		return s.dropPrefix(max + 1)
	default:
		return fmt.Errorf("%w: [%d, %d] inside [%d, %d]", ErrHole, min, max, first, last)
	}
}

// truncateFrom (wmu held) removes every entry at or after idx. Order for
// crash safety: batches first (durable when TruncateOrdinal returns), then
// the side file. A crash in between leaves side entries at or after idx
// that no batch backs; recovery drops them, or keeps a contiguous prefix of
// the old tail, which Raft treats like any other stale entries.
func (s *Store) truncateFrom(idx uint64) error {
	s.mu.Lock()
	ord := s.ordinalAt(idx)
	next := s.nextOrdinal()
	k := s.sideBefore(idx)
	keepSide := append([]sideEntry(nil), s.side[:k]...)
	dropSide := k < len(s.side)
	hdr := sideHeader{s.first, s.firstOrd}
	s.mu.Unlock()
	if ord < next {
		if fo := s.log.FirstOrdinal(); ord < fo {
			return fmt.Errorf("%w: truncating from index %d needs batch ordinal %d, which Kafka retention removed (first %d)",
				ErrHole, idx, ord, fo)
		}
		s.gen.Add(1) // runs read from now on may see the cut
		if err := s.log.TruncateOrdinal(ord); err != nil {
			return s.failLocked(fmt.Errorf("truncate partition log at batch ordinal %d: %w", ord, err))
		}
		s.gen.Add(1) // and runs read before it are void
	}
	s.mu.Lock()
	s.count = idx - s.first
	s.side = keepSide
	s.mu.Unlock()
	if dropSide {
		if err := s.sf.rewrite(hdr, keepSide); err != nil {
			return s.failLocked(err)
		}
	}
	return nil
}

// dropPrefix (wmu held) makes idx the first index without touching Kafka
// data: the anchor moves to idx, with the ordinal of the first batch at or
// after it, and side entries before it leave the side file. One atomic
// rewrite of the side file; until it is durable the old prefix stays.
func (s *Store) dropPrefix(idx uint64) error {
	s.mu.Lock()
	hdr := sideHeader{idx, s.ordinalAt(idx)}
	k := s.sideBefore(idx)
	keep := append([]sideEntry(nil), s.side[k:]...)
	s.mu.Unlock()
	if err := s.sf.rewrite(hdr, keep); err != nil {
		return s.failLocked(err)
	}
	s.mu.Lock()
	s.count -= idx - s.first
	s.first, s.firstOrd, s.side = hdr.firstIndex, hdr.firstOrdinal, keep
	s.mu.Unlock()
	return nil
}

func max64(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}
