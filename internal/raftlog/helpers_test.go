package raftlog

import (
	"bytes"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/batch/batchtest"
	"github.com/ailurus/ailurus/internal/storage"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testLogOptions gives small segments so the tests cross segment boundaries.
func testLogOptions() storage.Options {
	o := storage.DefaultOptions()
	o.SegmentBytes = 256 << 10
	o.IndexIntervalBytes = 1024
	o.PreallocBytes = 64 << 10
	return o
}

// partition is one partition's storage log and raft log store, reopenable.
type partition struct {
	t    *testing.T
	dir  string
	opts storage.Options
	log  *storage.Log
	st   *Store
}

func openPartition(t *testing.T, dir string) *partition {
	t.Helper()
	p := &partition{t: t, dir: dir, opts: testLogOptions()}
	p.open()
	t.Cleanup(p.close)
	return p
}

func (p *partition) open() {
	p.t.Helper()
	l, err := storage.Open(p.dir, p.opts, storage.Env{Logger: quiet()})
	if err != nil {
		p.t.Fatalf("open storage log: %v", err)
	}
	st, err := Open(l, Env{Logger: quiet()})
	if err != nil {
		l.Close()
		p.t.Fatalf("open raft log store: %v", err)
	}
	p.log, p.st = l, st
}

func (p *partition) close() {
	if p.st != nil {
		p.st.Close()
		p.st = nil
	}
	if p.log != nil {
		p.log.Close()
		p.log = nil
	}
}

func (p *partition) reopen() {
	p.t.Helper()
	p.close()
	p.open()
}

// kafkaBatches reads every batch of the partition log through the Kafka read
// path, from the log start.
func kafkaBatches(t *testing.T, l *storage.Log) [][]byte {
	t.Helper()
	var out [][]byte
	var s storage.Slice
	defer s.Release()
	from := l.StartOffset()
	for {
		if err := l.Read(from, 1<<62, 1<<20, &s); err != nil {
			t.Fatalf("read at %d: %v", from, err)
		}
		if s.Size == 0 {
			return out
		}
		b, err := s.AppendTo(nil)
		if err != nil {
			t.Fatal(err)
		}
		for len(b) > 0 {
			h, err := batch.Parse(b)
			if err != nil {
				t.Fatalf("read back a bad batch header: %v", err)
			}
			if _, err := batch.Check(b[:h.Size()]); err != nil {
				t.Fatalf("read back a bad batch at %d: %v", h.BaseOffset, err)
			}
			out = append(out, b[:h.Size():h.Size()])
			b = b[h.Size():]
		}
		from = s.NextOffset
	}
}

// testBatch is a small batch identified by its first timestamp.
func testBatch(id int64) []byte { return batchtest.Values(id, 2, 16) }

func batchID(t *testing.T, b []byte) int64 {
	t.Helper()
	h, err := batch.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return h.BaseTimestamp
}

// sameBatch reports whether stored equals the client's bytes orig apart from
// the base offset and leader epoch the log sets.
func sameBatch(orig, stored []byte) bool {
	if len(orig) != len(stored) || len(orig) < batch.HeaderSize {
		return false
	}
	return bytes.Equal(orig[8:12], stored[8:12]) && bytes.Equal(orig[16:], stored[16:])
}

func raftLogger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Error, Output: io.Discard})
}

// fastConfig is a raft.Config with timeouts for tests on a loaded machine.
func fastConfig(id string) *raft.Config {
	c := raft.DefaultConfig()
	c.LocalID = raft.ServerID(id)
	c.HeartbeatTimeout = 100 * time.Millisecond
	c.ElectionTimeout = 100 * time.Millisecond
	c.LeaderLeaseTimeout = 50 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
	c.BatchApplyCh = true
	c.MaxAppendEntries = 256
	c.SnapshotThreshold = 1 << 40
	c.SnapshotInterval = time.Hour
	c.Logger = raftLogger()
	return c
}
