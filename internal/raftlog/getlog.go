package raftlog

import (
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/storage"
)

// GetLog fills out with the entry at index, or returns raft.ErrLogNotFound.
// A batch entry comes back as Type LogCommand, Term = the batch's leader
// epoch, Data = the batch as stored (base offset assigned), no Extensions
// and a zero AppendedAt. Data and Extensions are always fresh copies: the
// caller may keep or modify them (a follower's StoreLogs rewrites the base
// offset in place).
func (s *Store) GetLog(index uint64, out *raft.Log) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.count == 0 || index < s.first || index >= s.first+s.count {
		s.mu.Unlock()
		return raft.ErrLogNotFound
	}
	k := s.sideBefore(index)
	if k < len(s.side) && s.side[k].index == index {
		e := s.side[k]
		gone := index < s.effectiveFirst()
		s.mu.Unlock()
		if gone {
			return raft.ErrLogNotFound
		}
		e.fill(out)
		return nil
	}
	ord := s.firstOrd + int64(index-s.first) - int64(k)
	s.mu.Unlock()

	b, err := s.readBatch(ord)
	if errors.Is(err, storage.ErrOffsetOutOfRange) {
		return raft.ErrLogNotFound // Kafka retention removed it
	}
	if err != nil {
		return fmt.Errorf("raft log index %d (batch ordinal %d): %w", index, ord, err)
	}
	h, err := batch.Parse(b)
	if err != nil || h.LeaderEpoch < 0 {
		return fmt.Errorf("%w: raft log index %d (batch ordinal %d): stored batch epoch %d: %v",
			ErrCorrupt, index, ord, h.LeaderEpoch, err)
	}
	*out = raft.Log{Index: index, Term: uint64(h.LeaderEpoch), Type: raft.LogCommand, Data: b}
	return nil
}

// readAheadBytes is how much one miss of the read-ahead cache reads: about
// 300 small batches, so a follower catching up or a restart replaying the
// log costs one pread per run rather than two per entry.
const readAheadBytes = 64 << 10

// readRuns is how many runs the cache keeps: one per sequential reader Raft
// runs at once (a replication goroutine per follower, the FSM feed).
const readRuns = 4

// readCache holds the last runs of consecutive batches read from the
// partition log. Its mutex is taken alone, never with the store's.
type readCache struct {
	mu   sync.Mutex
	runs [readRuns]readRun
	next int // round-robin victim when no run is the reader's predecessor
}

// readRun is batches first, first+1, ... : batch i is buf[ends[i-1]:ends[i]]
// (ends[-1] = 0). gen is the store generation it was read under.
type readRun struct {
	gen   uint64
	first int64
	buf   []byte
	ends  []int
}

func (r *readRun) has(gen uint64, ord int64) bool {
	return r.buf != nil && r.gen == gen && ord >= r.first && ord < r.first+int64(len(r.ends))
}

func (r *readRun) copyOut(ord int64) []byte {
	i := int(ord - r.first)
	from := 0
	if i > 0 {
		from = r.ends[i-1]
	}
	return append([]byte(nil), r.buf[from:r.ends[i]]...)
}

// readBatch returns a copy of the batch with ordinal ord, from the cache or
// from the partition log (filling the cache with a run from ord on).
func (s *Store) readBatch(ord int64) ([]byte, error) {
	gen := s.gen.Load()
	c := &s.cache
	c.mu.Lock()
	for i := range c.runs {
		if c.runs[i].has(gen, ord) {
			b := c.runs[i].copyOut(ord)
			c.mu.Unlock()
			return b, nil
		}
	}
	c.mu.Unlock()

	buf, n, err := s.log.ReadOrdinals(ord, readAheadBytes, nil)
	if err != nil {
		return nil, err
	}
	run := readRun{gen: gen, first: ord, buf: buf, ends: make([]int, 0, n)}
	for pos := 0; pos < len(buf); {
		h, err := batch.Parse(buf[pos:])
		if err != nil {
			return nil, fmt.Errorf("%w: batch ordinal %d: %w", ErrCorrupt, ord+int64(len(run.ends)), err)
		}
		pos += int(h.Size())
		run.ends = append(run.ends, pos)
	}
	b := run.copyOut(ord)
	c.mu.Lock()
	if s.gen.Load() == gen {
		victim := -1
		for i := range c.runs {
			if r := &c.runs[i]; r.buf == nil || r.gen != gen || r.first+int64(len(r.ends)) == ord {
				victim = i // empty, stale, or the run this reader just finished
				break
			}
		}
		if victim < 0 {
			victim = c.next
			c.next = (c.next + 1) % readRuns
		}
		c.runs[victim] = run
	}
	c.mu.Unlock()
	return b, nil
}
