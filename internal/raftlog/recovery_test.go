package raftlog

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/storage"
)

func TestRaftlogSideFileTornTailCut(t *testing.T) {
	p := openPartition(t, t.TempDir())
	all := []*raft.Log{cfgEntry(1, 1), batchEntry(2, 1), noopEntry(3, 2), batchEntry(4, 2), cmdEntry(5, 2)}
	store(t, p.st, all...)
	p.close()
	path := filepath.Join(p.dir, sideFileName)
	good, _ := os.ReadFile(path)
	// Half of a new record, then garbage: what a crash mid-append leaves.
	rec := appendSideRecord(nil, newSideEntry(noopEntry(6, 2)))
	torn := append(append(append([]byte(nil), good...), rec[:len(rec)/2]...), 0xde, 0xad)
	if err := os.WriteFile(path, torn, 0o644); err != nil {
		t.Fatal(err)
	}
	p.open()
	wantBounds(t, p.st, 1, 5)
	checkEntries(t, p, all)
	if b, _ := os.ReadFile(path); !bytes.Equal(b, good) {
		t.Fatalf("torn tail not cut: %d bytes, want %d", len(b), len(good))
	}
	// Appends after the cut land where the torn record was.
	store(t, p.st, noopEntry(6, 3), batchEntry(7, 3))
	all = append(all, noopEntry(6, 3), batchEntry(7, 3))
	p.reopen()
	wantBounds(t, p.st, 1, 7)
	var l raft.Log
	if err := p.st.GetLog(6, &l); err != nil || l.Term != 3 || l.Type != raft.LogNoop {
		t.Fatalf("GetLog(6) after cut and append: %+v %v", l, err)
	}
}

// A crash after the side file's fsync but before the batches' leaves side
// entries that need batches the log does not have: they must go, and the
// side file must be rewritten so that later appends do not follow them.
func TestRaftlogCrashBeforeBatchesDurable(t *testing.T) {
	p := openPartition(t, t.TempDir())
	base := []*raft.Log{cfgEntry(1, 1), batchEntry(2, 1), batchEntry(3, 1)}
	store(t, p.st, base...)
	// StoreLogs([noop 4, batch 5, cfg 6, batch 7]) dies after the side write.
	var recs []byte
	for _, e := range []*raft.Log{noopEntry(4, 2), cfgEntry(6, 2)} {
		recs = appendSideRecord(recs, newSideEntry(e))
	}
	if err := p.st.sf.append(recs); err != nil {
		t.Fatal(err)
	}
	p.reopen()
	// noop 4 needs no batch and is a valid prefix; cfg 6 needed batch 5.
	wantBounds(t, p.st, 1, 4)
	checkEntries(t, p, append(base, noopEntry(4, 2)))
	p.reopen()
	wantBounds(t, p.st, 1, 4)
	// Raft stores index 5 on: nothing of the lost call reappears.
	more := []*raft.Log{batchEntry(5, 2), batchEntry(6, 2), batchEntry(7, 2)}
	store(t, p.st, more...)
	p.reopen()
	checkEntries(t, p, append(append(base, noopEntry(4, 2)), more...))
}

// A crash between the partition log's truncation and the side file's
// rewrite (DeleteRange suffix) leaves side entries past the cut.
func TestRaftlogCrashDuringSuffixTruncation(t *testing.T) {
	p := openPartition(t, t.TempDir())
	all := []*raft.Log{cfgEntry(1, 1), batchEntry(2, 1), batchEntry(3, 1), noopEntry(4, 2),
		batchEntry(5, 2), cfgEntry(6, 2), batchEntry(7, 2)}
	store(t, p.st, all...)
	// The storage half of DeleteRange(5, 7): batch ordinals 2.. go.
	if err := p.log.TruncateOrdinal(2); err != nil {
		t.Fatal(err)
	}
	p.reopen()
	wantBounds(t, p.st, 1, 4)
	checkEntries(t, p, all[:4])
}

func TestRaftlogMissingSideFileRefusesToOpen(t *testing.T) {
	p := openPartition(t, t.TempDir())
	store(t, p.st, cfgEntry(1, 1), batchEntry(2, 1))
	p.close()
	if err := os.Remove(filepath.Join(p.dir, sideFileName)); err != nil {
		t.Fatal(err)
	}
	l, err := storage.Open(p.dir, p.opts, storage.Env{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := Open(l, Env{Logger: quiet()}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open without side file: %v, want ErrCorrupt", err)
	}
}

// TestRaftlogMatchesInmemStore drives the store and raft's InmemStore with
// the same random StoreLogs / DeleteRange (suffix and prefix) sequence,
// reopening the store now and then, and compares every entry after each step.
func TestRaftlogMatchesInmemStore(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		p := openPartition(t, t.TempDir())
		ref := raft.NewInmemStore()
		term := uint64(1)
		next := uint64(1)
		for step := 0; step < 120; step++ {
			first, _ := ref.FirstIndex()
			last, _ := ref.LastIndex()
			switch r := rng.IntN(10); {
			case r < 6: // append 1..20 mixed entries
				n := 1 + rng.IntN(20)
				if rng.IntN(5) == 0 {
					term++
				}
				var logs []*raft.Log
				for i := 0; i < n; i++ {
					idx := next + uint64(i)
					switch k := rng.IntN(10); {
					case k < 6:
						logs = append(logs, batchEntry(idx, term))
					case k < 7:
						logs = append(logs, noopEntry(idx, term))
					case k < 8:
						logs = append(logs, cfgEntry(idx, term))
					case k < 9:
						logs = append(logs, cmdEntry(idx, term))
					default:
						logs = append(logs, &raft.Log{Index: idx, Term: term, Type: raft.LogBarrier})
					}
				}
				// The store writes offsets into Data; the reference keeps the
				// same *Log, so it sees them too.
				ref.StoreLogs(logs)
				if err := p.st.StoreLogs(logs); err != nil {
					t.Fatalf("seed %d step %d: store: %v", seed, step, err)
				}
				next += uint64(n)
			case r < 8 && last > first: // suffix truncation
				from := first + 1 + rng.Uint64N(last-first)
				ref.DeleteRange(from, last)
				if err := p.st.DeleteRange(from, last); err != nil {
					t.Fatalf("seed %d step %d: delete [%d, %d]: %v", seed, step, from, last, err)
				}
				next = from
				term++
			case r == 8 && rng.IntN(5) == 0 && last > 0: // whole-log conflict
				ref.DeleteRange(first, last)
				if err := p.st.DeleteRange(first, last); err != nil {
					t.Fatalf("seed %d step %d: delete all [%d, %d]: %v", seed, step, first, last, err)
				}
				next = first
				term++
			case r < 9 && last > first: // compaction
				upto := first + rng.Uint64N(last-first)
				ref.DeleteRange(first, upto)
				if err := p.st.DeleteRange(first, upto); err != nil {
					t.Fatalf("seed %d step %d: delete [%d, %d]: %v", seed, step, first, upto, err)
				}
			default:
				p.reopen()
			}
			compareStores(t, seed, step, ref, p.st)
		}
		p.close()
	}
}

func compareStores(t *testing.T, seed uint64, step int, ref *raft.InmemStore, st *Store) {
	t.Helper()
	rf, _ := ref.FirstIndex()
	rl, _ := ref.LastIndex()
	f, err1 := st.FirstIndex()
	l, err2 := st.LastIndex()
	if err1 != nil || err2 != nil || f != rf || l != rl {
		t.Fatalf("seed %d step %d: bounds [%d, %d] (%v %v), want [%d, %d]", seed, step, f, l, err1, err2, rf, rl)
	}
	lo := uint64(1)
	if rf > 3 {
		lo = rf - 3
	}
	for idx := lo; idx <= rl+3; idx++ {
		var want, got raft.Log
		errW := ref.GetLog(idx, &want)
		errG := st.GetLog(idx, &got)
		if (errW == nil) != (errG == nil) {
			t.Fatalf("seed %d step %d: GetLog(%d): %v, reference %v", seed, step, idx, errG, errW)
		}
		if errW != nil {
			if !errors.Is(errG, raft.ErrLogNotFound) {
				t.Fatalf("seed %d step %d: GetLog(%d): %v, want ErrLogNotFound", seed, step, idx, errG)
			}
			continue
		}
		if got.Index != idx || got.Term != want.Term || got.Type != want.Type ||
			!bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Extensions, want.Extensions) {
			t.Fatalf("seed %d step %d: GetLog(%d) = %v/%d/%q, want %v/%d/%q",
				seed, step, idx, got.Type, got.Term, got.Data, want.Type, want.Term, want.Data)
		}
	}
}
