package txn

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/testkit"
)

func TestInitProducerIDNewAndKnown(t *testing.T) {
	h := newHarness(t, nil)
	pid, epoch := h.mustInit("a", 60000)
	if pid != 1001 || epoch != 0 {
		t.Fatalf("new id: got pid %d epoch %d, want 1001/0", pid, epoch)
	}
	if got := h.log.states(t, "a"); !slices.Equal(got, []string{"Empty"}) {
		t.Fatalf("records: %v", got)
	}
	d := h.p.Describe("a")
	if d.State != "Empty" || d.ProducerID != 1001 || d.ProducerEpoch != 0 || d.TimeoutMillis != 60000 || d.StartTimestamp != -1 {
		t.Fatalf("describe: %+v", d)
	}
	// Known id: same pid, epoch bumped, written.
	pid2, epoch2 := h.mustInit("a", 30000)
	if pid2 != pid || epoch2 != 1 {
		t.Fatalf("known id: got %d/%d, want %d/1", pid2, epoch2, pid)
	}
	if n := len(h.log.records()); n != 2 {
		t.Fatalf("%d records, want 2", n)
	}
	if d := h.p.Describe("a"); d.TimeoutMillis != 30000 {
		t.Fatalf("timeout not updated: %d", d.TimeoutMillis)
	}
	// The previous producer is fenced.
	wantCode(t, "add with old epoch", h.add("a", pid, 0, "t", 0), kerr.ProducerFenced.Code)
}

func TestInitProducerIDTimeout(t *testing.T) {
	h := newHarness(t, nil)
	for _, ms := range []int32{0, -1, 15*60*1000 + 1} {
		wantCode(t, fmt.Sprint("timeout ", ms), h.init("a", ms).ErrorCode, kerr.InvalidTransactionTimeout.Code)
	}
	wantCode(t, "max timeout", h.init("a", 15*60*1000).ErrorCode, 0)
	wantCode(t, "empty id", h.init("", 1000).ErrorCode, kerr.InvalidRequest.Code)
}

func TestInitProducerIDIdempotent(t *testing.T) {
	h := newHarness(t, nil)
	req := kmsg.NewPtrInitProducerIDRequest()
	r := h.p.InitProducerID(t.Context(), req)
	if r.ErrorCode != 0 || r.ProducerID != 1001 || r.ProducerEpoch != 0 {
		t.Fatalf("idempotent producer: %+v", r)
	}
	if n := len(h.log.records()); n != 0 {
		t.Fatalf("idempotent producer wrote %d records", n)
	}
}

func TestInitProducerIDEpochExhausted(t *testing.T) {
	h := newHarness(t, nil)
	h.mustInit("a", 1000)
	// Move the epoch to the edge through a loaded record.
	m := meta{pid: 1001, epoch: math.MaxInt16 - 2, prevPID: -1, timeoutMs: 1000, st: stCompleteCommit, startMs: 5}
	p := h.newPartition([]Record{{txnKey("a"), txnValue(m)}})
	p.LoadDone()
	r := h.initWith(p, "a", 1000, 1001, math.MaxInt16-2, 4)
	if r.ErrorCode != 0 || r.ProducerID != 1001 || r.ProducerEpoch != math.MaxInt16-1 {
		t.Fatalf("bump to MaxInt16-1: %+v", r)
	}
	r = h.initWith(p, "a", 1000, 1001, math.MaxInt16-1, 4)
	if r.ErrorCode != 0 || r.ProducerID != 1002 || r.ProducerEpoch != 0 {
		t.Fatalf("overflow: want a new pid at epoch 0, got %+v", r)
	}
	// KIP-360: the replaced pid retrying gets the same answer...
	r = h.initWith(p, "a", 1000, 1001, math.MaxInt16-1, 4)
	if r.ErrorCode != 0 || r.ProducerID != 1002 || r.ProducerEpoch != 0 {
		t.Fatalf("retry with the previous pid: %+v", r)
	}
	// ...also after a restart (the previous pid is in the record)...
	q := h.newPartition(h.log.records())
	q.LoadDone()
	r = h.initWith(q, "a", 1000, 1001, math.MaxInt16-1, 4)
	if r.ErrorCode != 0 || r.ProducerID != 1002 || r.ProducerEpoch != 0 {
		t.Fatalf("retry with the previous pid after restart: %+v", r)
	}
	// ...and a stranger is fenced.
	wantCode(t, "unrelated pid", h.initWith(q, "a", 1000, 999, 0, 4).ErrorCode, kerr.ProducerFenced.Code)
}

func TestInitProducerIDKIP360(t *testing.T) {
	h := newHarness(t, nil)
	pid, _ := h.mustInit("a", 1000)
	// Current pid/epoch: bumped.
	r := h.initWith(h.p, "a", 1000, pid, 0, 4)
	if r.ErrorCode != 0 || r.ProducerEpoch != 1 {
		t.Fatalf("current epoch: %+v", r)
	}
	n := len(h.log.records())
	// The same request again (lost answer): same answer, nothing written.
	r = h.initWith(h.p, "a", 1000, pid, 0, 4)
	if r.ErrorCode != 0 || r.ProducerID != pid || r.ProducerEpoch != 1 {
		t.Fatalf("retry: %+v", r)
	}
	if len(h.log.records()) != n {
		t.Fatal("retry wrote a record")
	}
	// Once the state moved on, the old epoch is fenced.
	wantCode(t, "add", h.add("a", pid, 1, "t", 0), 0)
	wantCode(t, "stale epoch v4", h.initWith(h.p, "a", 1000, pid, 0, 4).ErrorCode, kerr.ProducerFenced.Code)
	wantCode(t, "stale epoch v3", h.initWith(h.p, "a", 1000, pid, 0, 3).ErrorCode, kerr.InvalidProducerEpoch.Code)
	wantCode(t, "other pid", h.initWith(h.p, "a", 1000, pid+50, 1, 4).ErrorCode, kerr.ProducerFenced.Code)
	if got := h.state("a"); got != "Ongoing" {
		t.Fatalf("fenced requests changed the state: %s", got)
	}
	// An unknown id with a pid (an idempotent producer turning
	// transactional) gets a fresh pid.
	r = h.initWith(h.p, "b", 1000, 77, 3, 4)
	if r.ErrorCode != 0 || r.ProducerEpoch != 0 || r.ProducerID == 77 {
		t.Fatalf("unknown id with pid: %+v", r)
	}
}

func TestInitProducerIDAbortsOngoing(t *testing.T) {
	h := newHarness(t, nil)
	pid, _ := h.mustInit("a", 60000)
	wantCode(t, "add", h.add("a", pid, 0, "t", 1, 2), 0)
	r := h.init("a", 60000)
	if r.ErrorCode != 0 || r.ProducerID != pid || r.ProducerEpoch != 2 {
		t.Fatalf("init over Ongoing: %+v", r)
	}
	calls := h.mk.done()
	if len(calls) != 1 || calls[0].commit || calls[0].epoch != 1 || calls[0].pid != pid || calls[0].coordEpoch != 7 ||
		!slices.Equal(calls[0].tps, []TP{{"t", 1}, {"t", 2}}) {
		t.Fatalf("markers: %+v", calls)
	}
	want := []string{"Empty", "Ongoing", "PrepareAbort", "CompleteAbort", "Empty"}
	if got := h.log.states(t, "a"); !slices.Equal(got, want) {
		t.Fatalf("records %v, want %v", got, want)
	}
	wantCode(t, "old producer add", h.add("a", pid, 0, "t", 1), kerr.ProducerFenced.Code)
	wantCode(t, "old producer end", h.end("a", pid, 0, true), kerr.ProducerFenced.Code)
	if d := h.p.Describe("a"); d.State != "Empty" || len(d.Topics) != 0 || d.ProducerEpoch != 2 {
		t.Fatalf("describe: %+v", d)
	}
}

func TestInitProducerIDAbortMarkersFail(t *testing.T) {
	h := newHarness(t, nil)
	pid, _ := h.mustInit("a", 60000)
	wantCode(t, "add", h.add("a", pid, 0, "t", 1), 0)
	h.mk.setFail(errDisk, 2)
	wantCode(t, "init while the abort's markers fail", h.init("a", 60000).ErrorCode, kerr.ConcurrentTransactions.Code)
	// Decided: the old producer is fenced already, the abort finishes in
	// the background, and then the retried init succeeds.
	wantCode(t, "old producer", h.add("a", pid, 0, "t", 1), kerr.ProducerFenced.Code)
	testkit.CheckFor(t, 2e9, func() error {
		if s := h.state("a"); s != "CompleteAbort" {
			return fmt.Errorf("state %s", s)
		}
		return nil
	})
	if c := h.mk.done(); len(c) != 1 || c[0].commit || c[0].epoch != 1 {
		t.Fatalf("markers: %+v", c)
	}
	r := h.init("a", 60000)
	if r.ErrorCode != 0 || r.ProducerEpoch != 2 {
		t.Fatalf("retried init: %+v", r)
	}
}

func TestInitProducerIDDuringPrepare(t *testing.T) {
	h := newHarness(t, nil)
	pid, _ := h.mustInit("a", 60000)
	wantCode(t, "add", h.add("a", pid, 0, "t", 1), 0)
	h.mk.setFail(errDisk, -1)
	wantCode(t, "end", h.end("a", pid, 0, true), 0)
	if s := h.state("a"); s != "PrepareCommit" {
		t.Fatalf("state %s", s)
	}
	wantCode(t, "init during PrepareCommit", h.init("a", 60000).ErrorCode, kerr.ConcurrentTransactions.Code)
}
