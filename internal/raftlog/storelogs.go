package raftlog

import (
	"fmt"
	"math"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/batch"
)

// IsBatch reports whether the entry is stored as a Kafka batch in the
// partition log rather than in the side file: a LogCommand without
// Extensions whose Data is framed as one v2 batch (magic 2 and a length field
// that covers exactly Data). Framing, not a passing CRC, decides, so that a
// batch damaged on its way is refused by StoreLogs instead of silently
// becoming a side entry on one replica only (which would shift every later
// Kafka offset there). FSM commands that are not batches should carry
// Extensions, which makes them side entries whatever their Data.
func IsBatch(l *raft.Log) bool {
	if l.Type != raft.LogCommand || len(l.Extensions) != 0 {
		return false
	}
	h, err := batch.Parse(l.Data)
	return err == nil && h.Magic == 2 && h.Size() == int64(len(l.Data))
}

// StoreLog stores one entry; see StoreLogs.
func (s *Store) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// StoreLogs stores entries with consecutive indexes, durably, before it
// returns. The first index must follow LastIndex, except on an empty store
// (any index: the store re-anchors there) and after a gap (Raft after
// installing a snapshot: the entries before the gap are dropped from the
// Raft view, Kafka data is kept).
//
// Batch entries are appended to the partition log, which sets each batch's
// base offset and leader epoch (= Term) in l.Data in place: the leader's FSM
// reads the assigned offset from the same bytes. All batches of one term go
// in one storage Append (one group-commit fsync); a slice spanning terms
// makes one Append per term. Side entries are appended to the side file and
// fsynced first: a batch is never durable while a side entry before it in
// the slice is not, so recovery cannot shift a batch to a wrong index. A
// StoreLogs with both kinds therefore costs two fsyncs in sequence; the
// steady state (batches only) costs one.
func (s *Store) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	if err := s.usable(); err != nil {
		s.mu.Unlock()
		return err
	}
	first, count, next := s.first, s.count, s.nextOrdinal()
	s.mu.Unlock()

	start := logs[0].Index
	if start == 0 {
		return fmt.Errorf("%w: index 0", ErrOutOfOrder)
	}
	reanchor := false
	switch end := first + count; {
	case count == 0:
		reanchor = start != first
	case start == end:
	case start > end:
		s.lg.Warn("raft log gap: entries before it leave the raft view, kafka data is kept",
			"last_index", end-1, "next_index", start)
		reanchor = true
	default:
		return fmt.Errorf("%w: storing index %d, last stored is %d", ErrOutOfOrder, start, end-1)
	}

	plan, err := planStore(logs)
	if err != nil {
		return err
	}
	if reanchor {
		if err := s.sf.rewrite(sideHeader{start, next}, nil); err != nil {
			return s.failLocked(err)
		}
		s.mu.Lock()
		s.first, s.firstOrd, s.count, s.side = start, next, 0, nil
		s.mu.Unlock()
	}
	if len(plan.records) > 0 {
		if err := s.sf.append(plan.records); err != nil {
			return s.failLocked(err)
		}
	}
	ord := next
	for _, g := range plan.groups {
		res, err := s.log.Append(g.epoch, g.batches...)
		if err != nil {
			return s.failLocked(fmt.Errorf("append %d batches of term %d: %w", len(g.batches), g.epoch, err))
		}
		if res.FirstOrdinal != ord {
			return s.failLocked(fmt.Errorf("partition log appended to behind the raft log: batch ordinal %d, expected %d",
				res.FirstOrdinal, ord))
		}
		ord += int64(len(g.batches))
	}
	s.mu.Lock()
	s.side = append(s.side, plan.side...)
	s.count += uint64(len(logs))
	s.mu.Unlock()
	return nil
}

// failLocked is fail for callers holding wmu but not mu.
func (s *Store) failLocked(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fail(err)
}

// storePlan is what one StoreLogs writes, checked before anything is.
type storePlan struct {
	groups  []termGroup // batch entries by term, in index order
	side    []sideEntry
	records []byte // side entries encoded for the side file
}

type termGroup struct {
	epoch   int32
	batches [][]byte
}

// planStore checks logs (consecutive indexes, terms that never decrease and
// fit a leader epoch, batches that pass batch.Check) and sorts them.
func planStore(logs []*raft.Log) (storePlan, error) {
	var p storePlan
	for i, l := range logs {
		if i > 0 && l.Index != logs[i-1].Index+1 {
			return p, fmt.Errorf("%w: index %d after %d", ErrOutOfOrder, l.Index, logs[i-1].Index)
		}
		if i > 0 && l.Term < logs[i-1].Term {
			return p, fmt.Errorf("%w: term %d after %d at index %d", ErrOutOfOrder, l.Term, logs[i-1].Term, l.Index)
		}
		if !IsBatch(l) {
			e := newSideEntry(l)
			p.side = append(p.side, e)
			p.records = appendSideRecord(p.records, e)
			continue
		}
		if _, err := batch.Check(l.Data); err != nil {
			return p, fmt.Errorf("%w: index %d: %w", ErrBadEntry, l.Index, err)
		}
		if l.Term > math.MaxInt32 {
			return p, fmt.Errorf("%w: index %d: term %d does not fit a leader epoch", ErrBadEntry, l.Index, l.Term)
		}
		epoch := int32(l.Term)
		if n := len(p.groups); n == 0 || p.groups[n-1].epoch != epoch {
			p.groups = append(p.groups, termGroup{epoch: epoch})
		}
		g := &p.groups[len(p.groups)-1]
		g.batches = append(g.batches, l.Data)
	}
	return p, nil
}
