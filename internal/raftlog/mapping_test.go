package raftlog

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/batch"
)

// entry kinds for building test slices.
func cfgEntry(idx, term uint64) *raft.Log {
	return &raft.Log{Index: idx, Term: term, Type: raft.LogConfiguration, Data: []byte(fmt.Sprintf("cfg-%d", idx))}
}

func noopEntry(idx, term uint64) *raft.Log {
	return &raft.Log{Index: idx, Term: term, Type: raft.LogNoop}
}

func batchEntry(idx, term uint64) *raft.Log {
	return &raft.Log{Index: idx, Term: term, Type: raft.LogCommand, Data: testBatch(int64(idx))}
}

func cmdEntry(idx, term uint64) *raft.Log {
	return &raft.Log{Index: idx, Term: term, Type: raft.LogCommand, Data: []byte("fsm-cmd"), Extensions: []byte("ailurus")}
}

func store(t *testing.T, st *Store, logs ...*raft.Log) {
	t.Helper()
	if err := st.StoreLogs(logs); err != nil {
		t.Fatalf("store logs [%d..]: %v", logs[0].Index, err)
	}
}

func wantBounds(t *testing.T, st *Store, first, last uint64) {
	t.Helper()
	f, err1 := st.FirstIndex()
	l, err2 := st.LastIndex()
	if err1 != nil || err2 != nil || f != first || l != last {
		t.Fatalf("bounds [%d, %d] (%v %v), want [%d, %d]", f, l, err1, err2, first, last)
	}
}

// checkEntries checks GetLog for every index of want against it, and that the
// Kafka log holds exactly want's batch entries, in order, offsets from 0.
func checkEntries(t *testing.T, p *partition, want []*raft.Log) {
	t.Helper()
	var kafkaWant []*raft.Log
	for _, w := range want {
		var got raft.Log
		if err := p.st.GetLog(w.Index, &got); err != nil {
			t.Fatalf("GetLog(%d): %v", w.Index, err)
		}
		if got.Index != w.Index || got.Term != w.Term || got.Type != w.Type ||
			!bytes.Equal(got.Data, w.Data) || !bytes.Equal(got.Extensions, w.Extensions) {
			t.Fatalf("GetLog(%d) = {term %d type %v data %q ext %q}, want {term %d type %v data %q ext %q}",
				w.Index, got.Term, got.Type, got.Data, got.Extensions, w.Term, w.Type, w.Data, w.Extensions)
		}
		if IsBatch(w) {
			kafkaWant = append(kafkaWant, w)
		}
	}
	kb := kafkaBatches(t, p.log)
	if len(kb) != len(kafkaWant) {
		t.Fatalf("kafka log has %d batches, want %d", len(kb), len(kafkaWant))
	}
	next := int64(0)
	for i, b := range kb {
		h, _ := batch.Parse(b)
		if h.BaseOffset != next || int64(h.LeaderEpoch) != int64(kafkaWant[i].Term) || !bytes.Equal(b, kafkaWant[i].Data) {
			t.Fatalf("kafka batch %d: offset %d epoch %d, want offset %d epoch %d (same bytes %v)",
				i, h.BaseOffset, h.LeaderEpoch, next, kafkaWant[i].Term, bytes.Equal(b, kafkaWant[i].Data))
		}
		next = h.NextOffset()
	}
}

func TestRaftlogEmptyStore(t *testing.T) {
	p := openPartition(t, t.TempDir())
	wantBounds(t, p.st, 0, 0)
	var l raft.Log
	for _, idx := range []uint64{0, 1, 100} {
		if err := p.st.GetLog(idx, &l); !errors.Is(err, raft.ErrLogNotFound) {
			t.Fatalf("GetLog(%d) on empty store: %v", idx, err)
		}
	}
	if err := p.st.DeleteRange(1, 10); err != nil {
		t.Fatalf("DeleteRange on empty store: %v", err)
	}
	p.reopen()
	wantBounds(t, p.st, 0, 0)
	// The first entry may have any index (a follower after a snapshot).
	store(t, p.st, noopEntry(5, 2), batchEntry(6, 2))
	wantBounds(t, p.st, 5, 6)
	p.reopen()
	wantBounds(t, p.st, 5, 6)
}

func TestRaftlogMappingInterleaved(t *testing.T) {
	p := openPartition(t, t.TempDir())
	want := []*raft.Log{
		cfgEntry(1, 1), noopEntry(2, 1), batchEntry(3, 1), batchEntry(4, 1), batchEntry(5, 1),
		{Index: 6, Term: 1, Type: raft.LogBarrier},
	}
	store(t, p.st, want[:3]...)
	store(t, p.st, want[3:]...)
	// One StoreLogs spanning two terms, side entries between batches.
	more := []*raft.Log{batchEntry(7, 1), noopEntry(8, 2), batchEntry(9, 2), cmdEntry(10, 2),
		{Index: 11, Term: 2, Type: raft.LogCommand, Data: []byte("not a batch")}, batchEntry(12, 2)}
	store(t, p.st, more...)
	want = append(want, more...)
	wantBounds(t, p.st, 1, 12)
	checkEntries(t, p, want)
	// The base offsets were written into the caller's Data: 3 batches of 2
	// records before index 7.
	if h, _ := batch.Parse(more[0].Data); h.BaseOffset != 6 || h.LeaderEpoch != 1 {
		t.Fatalf("batch at index 7: offset %d epoch %d, want 6 and 1", h.BaseOffset, h.LeaderEpoch)
	}
	if got := p.log.NextOrdinal(); got != 6 {
		t.Fatalf("kafka log has %d batches, want 6", got)
	}
	p.reopen()
	wantBounds(t, p.st, 1, 12)
	checkEntries(t, p, want)
	// Appends continue after a restart.
	store(t, p.st, batchEntry(13, 3))
	var got raft.Log
	if err := p.st.GetLog(13, &got); err != nil || got.Term != 3 {
		t.Fatalf("GetLog(13) after restart: %+v %v", got, err)
	}
	if h, _ := batch.Parse(got.Data); h.BaseOffset != 12 {
		t.Fatalf("batch at index 13 has offset %d, want 12", h.BaseOffset)
	}
}

func TestRaftlogDeleteSuffix(t *testing.T) {
	for _, from := range []uint64{3, 4, 6, 7, 9} { // batch, batch, side, batch after side, last
		t.Run(fmt.Sprint(from), func(t *testing.T) {
			p := openPartition(t, t.TempDir())
			all := []*raft.Log{cfgEntry(1, 1), noopEntry(2, 1), batchEntry(3, 1), batchEntry(4, 1),
				batchEntry(5, 1), noopEntry(6, 2), batchEntry(7, 2), cfgEntry(8, 2), batchEntry(9, 2)}
			store(t, p.st, all...)
			hw := p.log.EndOffset()
			if err := p.st.DeleteRange(from, 9); err != nil {
				t.Fatal(err)
			}
			wantBounds(t, p.st, 1, from-1)
			kept := all[:from-1]
			checkEntries(t, p, kept)
			if p.log.EndOffset() >= hw {
				t.Fatal("suffix truncation left the kafka log as long as before")
			}
			var l raft.Log
			if err := p.st.GetLog(from, &l); !errors.Is(err, raft.ErrLogNotFound) {
				t.Fatalf("GetLog(%d) after truncation: %v", from, err)
			}
			// A new leader's entries replace the tail, then a restart.
			repl := []*raft.Log{noopEntry(from, 3), batchEntry(from+1, 3), batchEntry(from+2, 3)}
			store(t, p.st, repl...)
			kept = append(kept, repl...)
			checkEntries(t, p, kept)
			p.reopen()
			wantBounds(t, p.st, 1, from+2)
			checkEntries(t, p, kept)
		})
	}
}

func TestRaftlogDeleteWholeLogIsTruncation(t *testing.T) {
	p := openPartition(t, t.TempDir())
	store(t, p.st, cfgEntry(1, 1), batchEntry(2, 1), batchEntry(3, 1))
	if err := p.st.DeleteRange(1, 3); err != nil {
		t.Fatal(err)
	}
	wantBounds(t, p.st, 0, 0)
	if p.log.EndOffset() != 0 {
		t.Fatalf("kafka log end %d after whole-log truncation, want 0", p.log.EndOffset())
	}
	store(t, p.st, cfgEntry(1, 2), batchEntry(2, 2))
	p.reopen()
	checkEntries(t, p, []*raft.Log{cfgEntry(1, 2), batchEntryWithData(2, 2, p)})
}

// batchEntryWithData is the stored batch at idx as an expected entry.
func batchEntryWithData(idx, term uint64, p *partition) *raft.Log {
	var l raft.Log
	if err := p.st.GetLog(idx, &l); err != nil {
		p.t.Fatal(err)
	}
	return &raft.Log{Index: idx, Term: term, Type: raft.LogCommand, Data: l.Data}
}

func TestRaftlogDeletePrefixKeepsKafkaData(t *testing.T) {
	p := openPartition(t, t.TempDir())
	var all []*raft.Log
	for i := uint64(1); i <= 40; i++ {
		switch {
		case i%7 == 0:
			all = append(all, noopEntry(i, 1+i/10))
		case i%11 == 0:
			all = append(all, cfgEntry(i, 1+i/10))
		default:
			all = append(all, batchEntry(i, 1+i/10))
		}
	}
	for i := 0; i < len(all); i += 6 {
		store(t, p.st, all[i:min(i+6, len(all))]...)
	}
	end := p.log.EndOffset()
	for _, upto := range []uint64{5, 7, 14, 22} {
		first, _ := p.st.FirstIndex()
		if err := p.st.DeleteRange(first, upto); err != nil {
			t.Fatal(err)
		}
		wantBounds(t, p.st, upto+1, 40)
		var l raft.Log
		if err := p.st.GetLog(upto, &l); !errors.Is(err, raft.ErrLogNotFound) {
			t.Fatalf("GetLog(%d) below the first index: %v", upto, err)
		}
		// Kafka data stays: the partition log still starts at offset 0.
		if p.log.StartOffset() != 0 || p.log.EndOffset() != end || p.log.FirstOrdinal() != 0 {
			t.Fatalf("prefix removal touched kafka data: start %d end %d", p.log.StartOffset(), p.log.EndOffset())
		}
		if upto == 14 {
			p.reopen()
			wantBounds(t, p.st, 15, 40)
		}
		for _, w := range all[upto:] {
			var got raft.Log
			if err := p.st.GetLog(w.Index, &got); err != nil || got.Term != w.Term || got.Type != w.Type || !bytes.Equal(got.Data, w.Data) {
				t.Fatalf("after prefix removal to %d: GetLog(%d) = %+v %v", upto, w.Index, got, err)
			}
		}
	}
	if n := len(kafkaBatches(t, p.log)); n != 40-5-3 {
		t.Fatalf("kafka log has %d batches, want 32", n)
	}
	// Suffix truncation still maps correctly after the anchor moved.
	if err := p.st.DeleteRange(30, 40); err != nil {
		t.Fatal(err)
	}
	store(t, p.st, batchEntry(30, 9))
	p.reopen()
	wantBounds(t, p.st, 23, 30)
	var got raft.Log
	if err := p.st.GetLog(29, &got); err != nil || !bytes.Equal(got.Data, all[28].Data) {
		t.Fatalf("GetLog(29) after truncation and restart: %v", err)
	}
}

func TestRaftlogDeleteRangeHole(t *testing.T) {
	p := openPartition(t, t.TempDir())
	store(t, p.st, cfgEntry(1, 1), batchEntry(2, 1), batchEntry(3, 1), batchEntry(4, 1))
	if err := p.st.DeleteRange(2, 3); !errors.Is(err, ErrHole) {
		t.Fatalf("delete inside the log: %v", err)
	}
	for _, r := range [][2]uint64{{5, 9}, {0, 0}, {3, 2}} {
		if err := p.st.DeleteRange(r[0], r[1]); err != nil {
			t.Fatalf("delete %v outside the log: %v", r, err)
		}
	}
	wantBounds(t, p.st, 1, 4)
}

func TestRaftlogRejectsBadInput(t *testing.T) {
	p := openPartition(t, t.TempDir())
	store(t, p.st, cfgEntry(1, 1), batchEntry(2, 1))
	endBefore := p.log.EndOffset()
	bad := batchEntry(4, 1)
	bad.Data[len(bad.Data)-1] ^= 0xff // framed as a batch, CRC broken
	bigTerm := batchEntry(3, math.MaxInt32+1)
	for name, c := range map[string]struct {
		logs []*raft.Log
		want error
	}{
		"overwrite":         {[]*raft.Log{batchEntry(2, 1)}, ErrOutOfOrder},
		"below first":       {[]*raft.Log{batchEntry(1, 1)}, ErrOutOfOrder},
		"not consecutive":   {[]*raft.Log{batchEntry(3, 1), batchEntry(5, 1)}, ErrOutOfOrder},
		"term goes back":    {[]*raft.Log{batchEntry(3, 2), batchEntry(4, 1)}, ErrOutOfOrder},
		"corrupt batch":     {[]*raft.Log{batchEntry(3, 1), {Index: 4, Term: 1, Type: raft.LogCommand, Data: bad.Data}}, ErrBadEntry},
		"term over epoch":   {[]*raft.Log{bigTerm}, ErrBadEntry},
		"index zero, empty": {[]*raft.Log{{Index: 0}}, ErrOutOfOrder},
	} {
		if err := p.st.StoreLogs(c.logs); !errors.Is(err, c.want) {
			t.Fatalf("%s: got %v, want %v", name, err, c.want)
		}
	}
	// Nothing was written by the refused calls, and the store still works.
	wantBounds(t, p.st, 1, 2)
	if p.log.EndOffset() != endBefore {
		t.Fatalf("refused StoreLogs wrote to the kafka log: end %d, was %d", p.log.EndOffset(), endBefore)
	}
	var l raft.Log
	for _, idx := range []uint64{0, 3, 1 << 40} {
		if err := p.st.GetLog(idx, &l); !errors.Is(err, raft.ErrLogNotFound) {
			t.Fatalf("GetLog(%d): %v", idx, err)
		}
	}
	store(t, p.st, batchEntry(3, 1))
	p.reopen()
	wantBounds(t, p.st, 1, 3)
	p.st.Close()
	if err := p.st.GetLog(1, &l); !errors.Is(err, ErrClosed) {
		t.Fatalf("GetLog after Close: %v", err)
	}
	if err := p.st.StoreLogs([]*raft.Log{batchEntry(4, 1)}); !errors.Is(err, ErrClosed) {
		t.Fatalf("StoreLogs after Close: %v", err)
	}
}

func TestRaftlogGapReanchors(t *testing.T) {
	p := openPartition(t, t.TempDir())
	store(t, p.st, cfgEntry(1, 1), batchEntry(2, 1), noopEntry(3, 1), batchEntry(4, 1))
	// Raft after installing a snapshot: the next entry is past a gap.
	store(t, p.st, noopEntry(100, 5), batchEntry(101, 5))
	wantBounds(t, p.st, 100, 101)
	var l raft.Log
	if err := p.st.GetLog(4, &l); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("GetLog(4) before the gap: %v", err)
	}
	p.reopen()
	wantBounds(t, p.st, 100, 101)
	if err := p.st.GetLog(101, &l); err != nil || l.Term != 5 {
		t.Fatalf("GetLog(101): %+v %v", l, err)
	}
	// Kafka data before the gap is kept; the new batch follows it.
	if h, _ := batch.Parse(l.Data); h.BaseOffset != 4 {
		t.Fatalf("batch after the gap at offset %d, want 4", h.BaseOffset)
	}
}
