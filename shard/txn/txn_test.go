package txn

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/testkit"
)

func TestAddPartitions(t *testing.T) {
	h := newHarness(t, nil)
	wantCode(t, "unknown id", h.add("a", 1, 0, "t", 0), kerr.InvalidProducerIDMapping.Code)
	pid, _ := h.mustInit("a", 60000)
	wantCode(t, "other pid", h.add("a", pid+1, 0, "t", 0), kerr.InvalidProducerIDMapping.Code)
	h.mustInit("a", 60000) // epoch 1
	wantCode(t, "old epoch v2", h.addWith(h.p, "a", pid, 0, 2, "t", 0), kerr.ProducerFenced.Code)
	wantCode(t, "old epoch v1", h.addWith(h.p, "a", pid, 0, 1, "t", 0), kerr.InvalidProducerEpoch.Code)
	if s := h.state("a"); s != "Empty" {
		t.Fatalf("refused adds changed the state: %s", s)
	}

	start := h.clk.Now()
	wantCode(t, "add", h.add("a", pid, 1, "t", 3, 1), 0)
	d := h.p.Describe("a")
	if d.State != "Ongoing" || d.StartTimestamp != start.UnixMilli() || len(d.Topics) != 1 || !slices.Equal(d.Topics[0].Partitions, []int32{1, 3}) {
		t.Fatalf("describe: %+v", d)
	}
	n := len(h.log.records())
	h.clk.Advance(time.Second)
	wantCode(t, "add again", h.add("a", pid, 1, "t", 1), 0)
	if len(h.log.records()) != n {
		t.Fatal("adding partitions already in the transaction wrote a record")
	}
	wantCode(t, "add more", h.add("a", pid, 1, "u", 0), 0)
	d = h.p.Describe("a")
	if len(h.log.records()) != n+1 || d.StartTimestamp != start.UnixMilli() || len(d.Topics) != 2 {
		t.Fatalf("second topic: %+v", d)
	}

	// Unknown partitions: nothing done.
	req := h.addReq("a", pid, 1, 3, "t", 7)
	rt := kmsg.NewAddPartitionsToTxnRequestTopic()
	rt.Topic, rt.Partitions = "nope", []int32{0}
	req.Topics = append(req.Topics, rt)
	r := h.p.AddPartitions(t.Context(), req)
	wantCode(t, "valid partition beside an unknown one", r.Topics[0].Partitions[0].ErrorCode, kerr.OperationNotAttempted.Code)
	wantCode(t, "unknown partition", r.Topics[1].Partitions[0].ErrorCode, kerr.UnknownTopicOrPartition.Code)
	if len(h.log.records()) != n+1 {
		t.Fatal("a request with unknown partitions wrote a record")
	}
	v4 := kmsg.NewPtrAddPartitionsToTxnRequest()
	v4.Version = 4
	wantCode(t, "v4", h.p.AddPartitions(t.Context(), v4).ErrorCode, kerr.UnsupportedVersion.Code)
}

func TestAddOffsets(t *testing.T) {
	h := newHarness(t, nil)
	pid, _ := h.mustInit("a", 60000)
	req := kmsg.NewPtrAddOffsetsToTxnRequest()
	req.Version = 3
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group = "a", pid, 0, "grp"
	wantCode(t, "add offsets", h.p.AddOffsets(t.Context(), req).ErrorCode, 0)
	d := h.p.Describe("a")
	if d.State != "Ongoing" || len(d.Topics) != 1 || d.Topics[0].Topic != "__consumer_offsets" || !slices.Equal(d.Topics[0].Partitions, []int32{3}) {
		t.Fatalf("describe: %+v", d)
	}
	req.ProducerEpoch = 5
	wantCode(t, "other epoch v3", h.p.AddOffsets(t.Context(), req).ErrorCode, kerr.ProducerFenced.Code)
	req.Version = 1
	wantCode(t, "other epoch v1", h.p.AddOffsets(t.Context(), req).ErrorCode, kerr.InvalidProducerEpoch.Code)
	req.TransactionalID = "b"
	wantCode(t, "unknown id", h.p.AddOffsets(t.Context(), req).ErrorCode, kerr.InvalidProducerIDMapping.Code)
}

func TestEndTxnCommit(t *testing.T) {
	h := newHarness(t, nil)
	pid, _ := h.mustInit("a", 60000)
	wantCode(t, "end from Empty", h.end("a", pid, 0, true), kerr.InvalidTxnState.Code)
	wantCode(t, "add", h.add("a", pid, 0, "t", 0, 1), 0)
	wantCode(t, "add", h.add("a", pid, 0, "u", 4), 0)
	wantCode(t, "end other pid", h.end("a", pid+1, 0, true), kerr.InvalidProducerIDMapping.Code)
	wantCode(t, "end other epoch", h.end("a", pid, 1, true), kerr.ProducerFenced.Code)
	wantCode(t, "end other epoch v1", h.endWith(h.p, "a", pid, 1, true, 1), kerr.InvalidProducerEpoch.Code)
	wantCode(t, "end unknown id", h.end("zz", pid, 0, true), kerr.InvalidProducerIDMapping.Code)

	wantCode(t, "commit", h.end("a", pid, 0, true), 0)
	calls := h.mk.done()
	if len(calls) != 1 || !calls[0].commit || calls[0].pid != pid || calls[0].epoch != 0 || calls[0].coordEpoch != 7 ||
		!slices.Equal(calls[0].tps, []TP{{"t", 0}, {"t", 1}, {"u", 4}}) {
		t.Fatalf("markers: %+v", calls)
	}
	want := []string{"Empty", "Ongoing", "Ongoing", "PrepareCommit", "CompleteCommit"}
	if got := h.log.states(t, "a"); !slices.Equal(got, want) {
		t.Fatalf("records %v, want %v", got, want)
	}
	if d := h.p.Describe("a"); d.State != "CompleteCommit" || len(d.Topics) != 0 {
		t.Fatalf("describe: %+v", d)
	}
	wantCode(t, "commit retried", h.end("a", pid, 0, true), 0)
	wantCode(t, "abort after commit", h.end("a", pid, 0, false), kerr.InvalidTxnState.Code)
	if len(h.mk.done()) != 1 {
		t.Fatal("a retried EndTxn wrote markers again")
	}

	// The next transaction of the same producer, aborted.
	wantCode(t, "add", h.add("a", pid, 0, "t", 2), 0)
	wantCode(t, "abort", h.end("a", pid, 0, false), 0)
	if c := h.mk.done(); len(c) != 2 || c[1].commit || !slices.Equal(c[1].tps, []TP{{"t", 2}}) {
		t.Fatalf("abort markers: %+v", c)
	}
	if s := h.state("a"); s != "CompleteAbort" {
		t.Fatalf("state %s", s)
	}
	wantCode(t, "abort retried", h.end("a", pid, 0, false), 0)
	wantCode(t, "commit after abort", h.end("a", pid, 0, true), kerr.InvalidTxnState.Code)
}

func TestEndTxnMarkersFailAreRetried(t *testing.T) {
	h := newHarness(t, nil)
	pid, _ := h.mustInit("a", 60000)
	wantCode(t, "add", h.add("a", pid, 0, "t", 0), 0)
	h.mk.setFail(errDisk, -1)
	wantCode(t, "commit decided", h.end("a", pid, 0, true), 0)
	if s := h.state("a"); s != "PrepareCommit" {
		t.Fatalf("state %s", s)
	}
	wantCode(t, "end during PrepareCommit", h.end("a", pid, 0, true), kerr.ConcurrentTransactions.Code)
	wantCode(t, "abort during PrepareCommit", h.end("a", pid, 0, false), kerr.ConcurrentTransactions.Code)
	wantCode(t, "add during PrepareCommit", h.add("a", pid, 0, "t", 1), kerr.ConcurrentTransactions.Code)
	testkit.CheckFor(t, 2*time.Second, func() error {
		if n := h.mk.attempts(); n < 3 {
			return fmt.Errorf("%d marker attempts", n)
		}
		return nil
	})
	h.mk.setFail(nil, 0)
	testkit.CheckFor(t, 2*time.Second, func() error {
		if s := h.state("a"); s != "CompleteCommit" {
			return fmt.Errorf("state %s", s)
		}
		return nil
	})
	if c := h.mk.done(); len(c) != 1 || !c[0].commit || !slices.Equal(c[0].tps, []TP{{"t", 0}}) {
		t.Fatalf("markers: %+v", c)
	}
	wantCode(t, "commit retried", h.end("a", pid, 0, true), 0)
}

func TestRestartInPrepareCommit(t *testing.T) {
	h := newHarness(t, nil)
	pid, _ := h.mustInit("a", 60000)
	wantCode(t, "add", h.add("a", pid, 0, "t", 0, 1), 0)
	h.mk.setFail(errDisk, -1)
	wantCode(t, "commit decided", h.end("a", pid, 0, true), 0)
	h.p.Close()
	wantCode(t, "after close", h.end("a", pid, 0, true), kerr.NotCoordinator.Code)
	if got := h.log.states(t, "a"); got[len(got)-1] != "PrepareCommit" {
		t.Fatalf("records %v", got)
	}

	h.mk.setFail(nil, 0)
	p := h.newPartition(h.log.records())
	wantCode(t, "before LoadDone", h.endWith(p, "a", pid, 0, true, 3), kerr.CoordinatorLoadInProgress.Code)
	p.LoadDone()
	if d := p.Describe("a"); d.State != "PrepareCommit" {
		t.Fatalf("loaded state %s", d.State)
	}
	p.Start()
	testkit.CheckFor(t, 2*time.Second, func() error {
		if d := p.Describe("a"); d.State != "CompleteCommit" {
			return fmt.Errorf("state %s", d.State)
		}
		return nil
	})
	c := h.mk.done()
	if len(c) != 1 || !c[0].commit || c[0].pid != pid || c[0].epoch != 0 || !slices.Equal(c[0].tps, []TP{{"t", 0}, {"t", 1}}) {
		t.Fatalf("markers: %+v", c)
	}
	want := []string{"Empty", "Ongoing", "PrepareCommit", "CompleteCommit"}
	if got := h.log.states(t, "a"); !slices.Equal(got, want) {
		t.Fatalf("records %v, want %v", got, want)
	}
	wantCode(t, "commit retried on the new coordinator", h.endWith(p, "a", pid, 0, true, 3), 0)
}

func TestTimeoutAbortsWithBumpedEpoch(t *testing.T) {
	h := newHarness(t, nil)
	pid, _ := h.mustInit("a", 1000)
	wantCode(t, "add", h.add("a", pid, 0, "t", 0), 0)
	pidB, _ := h.mustInit("b", 60000)
	wantCode(t, "add b", h.add("b", pidB, 0, "t", 1), 0)
	h.p.Start()
	h.clk.Advance(999 * time.Millisecond)
	time.Sleep(5 * time.Millisecond) // a few ticks: nothing is due yet
	if s := h.state("a"); s != "Ongoing" {
		t.Fatalf("aborted before its timeout: %s", s)
	}
	h.clk.Advance(2 * time.Millisecond)
	testkit.CheckFor(t, 2*time.Second, func() error {
		if s := h.state("a"); s != "CompleteAbort" {
			return fmt.Errorf("state %s", s)
		}
		return nil
	})
	d := h.p.Describe("a")
	if d.ProducerID != pid || d.ProducerEpoch != 1 {
		t.Fatalf("epoch not bumped: %+v", d)
	}
	c := h.mk.done()
	if len(c) != 1 || c[0].commit || c[0].pid != pid || c[0].epoch != 1 || !slices.Equal(c[0].tps, []TP{{"t", 0}}) {
		t.Fatalf("markers: %+v", c)
	}
	if s := h.state("b"); s != "Ongoing" {
		t.Fatalf("b (60 s timeout) was touched: %s", s)
	}
	wantCode(t, "producer's commit with the old epoch", h.end("a", pid, 0, true), kerr.ProducerFenced.Code)
	wantCode(t, "producer's add with the old epoch", h.add("a", pid, 0, "t", 0), kerr.ProducerFenced.Code)
	want := []string{"Empty", "Ongoing", "PrepareAbort", "CompleteAbort"}
	if got := h.log.states(t, "a"); !slices.Equal(got, want) {
		t.Fatalf("records %v, want %v", got, want)
	}
	// A new producer for the id carries on.
	r := h.init("a", 1000)
	if r.ErrorCode != 0 || r.ProducerEpoch != 2 {
		t.Fatalf("init after the timeout: %+v", r)
	}
}

func TestLogFailureLeavesStateUnchanged(t *testing.T) {
	h := newHarness(t, nil)
	h.log.setFail(errDisk, 1)
	wantCode(t, "init new id", h.init("a", 60000).ErrorCode, kerr.CoordinatorNotAvailable.Code)
	wantCode(t, "describe", h.p.Describe("a").ErrorCode, kerr.TransactionalIDNotFound.Code)
	if l := h.p.List(kmsg.NewPtrListTransactionsRequest()); len(l) != 0 {
		t.Fatalf("list shows an id never written: %+v", l)
	}
	pid, _ := h.mustInit("a", 60000)

	h.log.setFail(ErrNotCoordinator, 1)
	wantCode(t, "init known id", h.init("a", 60000).ErrorCode, kerr.NotCoordinator.Code)
	if d := h.p.Describe("a"); d.ProducerEpoch != 0 || d.State != "Empty" {
		t.Fatalf("failed init changed the state: %+v", d)
	}

	h.log.setFail(errDisk, 1)
	wantCode(t, "add", h.add("a", pid, 0, "t", 0), kerr.CoordinatorNotAvailable.Code)
	if d := h.p.Describe("a"); d.State != "Empty" || len(d.Topics) != 0 {
		t.Fatalf("failed add changed the state: %+v", d)
	}
	wantCode(t, "add", h.add("a", pid, 0, "t", 0), 0)

	h.log.setFail(errDisk, 1)
	wantCode(t, "add more", h.add("a", pid, 0, "u", 0), kerr.CoordinatorNotAvailable.Code)
	if d := h.p.Describe("a"); len(d.Topics) != 1 {
		t.Fatalf("failed add changed the partitions: %+v", d)
	}

	h.log.setFail(errDisk, 1)
	wantCode(t, "end", h.end("a", pid, 0, true), kerr.CoordinatorNotAvailable.Code)
	if s := h.state("a"); s != "Ongoing" {
		t.Fatalf("failed end changed the state: %s", s)
	}
	if n := h.mk.attempts(); n != 0 {
		t.Fatalf("markers written for an undecided transaction: %d", n)
	}

	wantCode(t, "end", h.end("a", pid, 0, true), 0)
	if s := h.state("a"); s != "CompleteCommit" {
		t.Fatalf("state %s", s)
	}
	want := []string{"Empty", "Ongoing", "PrepareCommit", "CompleteCommit"}
	if got := h.log.states(t, "a"); !slices.Equal(got, want) {
		t.Fatalf("records %v, want %v", got, want)
	}
}

func TestCompletionRecordFailureIsRetried(t *testing.T) {
	h := newHarness(t, nil)
	pid, _ := h.mustInit("a", 60000)
	wantCode(t, "add", h.add("a", pid, 0, "t", 0), 0)
	h.mk.block = make(chan struct{})
	done := make(chan int16)
	go func() { done <- h.end("a", pid, 0, true) }()
	testkit.CheckFor(t, 2*time.Second, func() error {
		if s := h.state("a"); s != "PrepareCommit" {
			return fmt.Errorf("state %s", s)
		}
		return nil
	})
	// While the markers are written: the Complete record will fail once.
	h.log.setFail(errDisk, 1)
	close(h.mk.block)
	wantCode(t, "end", <-done, 0)
	testkit.CheckFor(t, 2*time.Second, func() error {
		if s := h.state("a"); s != "CompleteCommit" {
			return fmt.Errorf("state %s", s)
		}
		return nil
	})
}

func TestCloseDoesNotWaitForMarkers(t *testing.T) {
	h := newHarness(t, nil)
	pid, _ := h.mustInit("a", 60000)
	wantCode(t, "add", h.add("a", pid, 0, "t", 0), 0)
	h.mk.block = make(chan struct{}) // never closed: markers hang until cancelled
	h.p.Start()
	done := make(chan int16)
	go func() { done <- h.end("a", pid, 0, true) }()
	testkit.CheckFor(t, 2*time.Second, func() error {
		if n := len(h.p.List(kmsg.NewPtrListTransactionsRequest())); n != 1 {
			return fmt.Errorf("%d listed", n)
		}
		if s := h.state("a"); s != "PrepareCommit" {
			return fmt.Errorf("state %s", s)
		}
		return nil
	})
	closed := make(chan struct{})
	go func() { h.p.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("Close hangs behind a Markers call")
	}
	wantCode(t, "end decided before close", <-done, 0)
	if !h.p.Closed() {
		t.Fatal("not Closed")
	}
	wantCode(t, "init", h.init("a", 60000).ErrorCode, kerr.NotCoordinator.Code)
	wantCode(t, "add", h.add("a", pid, 0, "t", 0), kerr.NotCoordinator.Code)
	wantCode(t, "describe", h.p.Describe("a").ErrorCode, kerr.NotCoordinator.Code)
	if h.p.List(kmsg.NewPtrListTransactionsRequest()) != nil {
		t.Fatal("list after close")
	}
	req := kmsg.NewPtrAddOffsetsToTxnRequest()
	wantCode(t, "add offsets", h.p.AddOffsets(t.Context(), req).ErrorCode, kerr.NotCoordinator.Code)
}

func TestDescribeAndList(t *testing.T) {
	h := newHarness(t, nil)
	wantCode(t, "unknown", h.p.Describe("x").ErrorCode, kerr.TransactionalIDNotFound.Code)
	pa, _ := h.mustInit("a", 60000) // Empty
	pb, _ := h.mustInit("b", 60000)
	wantCode(t, "add b", h.add("b", pb, 0, "t", 0), 0) // Ongoing
	pc, _ := h.mustInit("c", 60000)
	wantCode(t, "add c", h.add("c", pc, 0, "t", 0), 0)
	wantCode(t, "end c", h.end("c", pc, 0, true), 0) // CompleteCommit
	pd, _ := h.mustInit("d", 60000)
	wantCode(t, "add d", h.add("d", pd, 0, "t", 0), 0)
	wantCode(t, "end d", h.end("d", pd, 0, false), 0) // CompleteAbort

	list := func(mod func(*kmsg.ListTransactionsRequest)) []string {
		req := kmsg.NewPtrListTransactionsRequest()
		req.Version = 2
		if mod != nil {
			mod(req)
		}
		var out []string
		for _, s := range h.p.List(req) {
			out = append(out, s.TransactionalID+"="+s.TransactionState)
		}
		return out
	}
	check := func(what string, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
	check("all", list(nil), "a=Empty", "b=Ongoing", "c=CompleteCommit", "d=CompleteAbort")
	check("states", list(func(r *kmsg.ListTransactionsRequest) { r.StateFilters = []string{"Ongoing", "CompleteAbort"} }), "b=Ongoing", "d=CompleteAbort")
	check("pids", list(func(r *kmsg.ListTransactionsRequest) { r.ProducerIDFilters = []int64{pa, pc} }), "a=Empty", "c=CompleteCommit")
	pat := "^[ab]$"
	check("pattern", list(func(r *kmsg.ListTransactionsRequest) { r.TransactionalIDPattern = &pat }), "a=Empty", "b=Ongoing")
	h.clk.Advance(10 * time.Second)
	pe, _ := h.mustInit("e", 60000)
	wantCode(t, "add e", h.add("e", pe, 0, "t", 0), 0)
	check("duration", list(func(r *kmsg.ListTransactionsRequest) {
		r.StateFilters = []string{"Ongoing"}
		r.DurationFilterMillis = 5000
	}), "b=Ongoing")

	d := h.p.Describe("b")
	if d.ErrorCode != 0 || d.TransactionalID != "b" || d.State != "Ongoing" || d.ProducerID != pb || d.TimeoutMillis != 60000 ||
		len(d.Topics) != 1 || d.Topics[0].Topic != "t" {
		t.Fatalf("describe b: %+v", d)
	}
	if d := h.p.Describe("c"); d.State != "CompleteCommit" || len(d.Topics) != 0 {
		t.Fatalf("describe c: %+v", d)
	}
}

func TestLoadReplay(t *testing.T) {
	h := newHarness(t, nil)
	ongoing := meta{pid: 5, epoch: 3, prevPID: -1, timeoutMs: 1000, st: stOngoing, parts: []TP{{"t", 1}, {"u", 0}}, startMs: 10, updateMs: 11}
	p := h.newPartition([]Record{
		{txnKey("a"), txnValue(meta{pid: 5, epoch: 2, prevPID: -1, timeoutMs: 1000, st: stEmpty, startMs: -1})},
		{txnKey("a"), txnValue(ongoing)}, // last value wins
		{txnKey("b"), txnValue(meta{pid: 6, prevPID: -1, timeoutMs: 1000, st: stEmpty, startMs: -1})},
		{txnKey("b"), nil}, // tombstone
		{txnKey("c"), txnValue(meta{pid: 7, prevPID: -1, timeoutMs: 1000, st: stDead, startMs: -1})},
		{[]byte{0, 9, 1}, []byte("junk")}, // unknown key version: skipped
		{txnKey("d"), []byte{0}},          // unreadable value: skipped
	})
	p.LoadDone()
	d := p.Describe("a")
	if d.State != "Ongoing" || d.ProducerID != 5 || d.ProducerEpoch != 3 || d.StartTimestamp != 10 || len(d.Topics) != 2 {
		t.Fatalf("a: %+v", d)
	}
	for _, id := range []string{"b", "c", "d"} {
		wantCode(t, "describe "+id, p.Describe(id).ErrorCode, kerr.TransactionalIDNotFound.Code)
	}
	// The record round-trips.
	got, ok := readValue(txnValue(ongoing))
	if !ok || got.pid != ongoing.pid || got.epoch != ongoing.epoch || got.st != ongoing.st || !slices.Equal(got.parts, ongoing.parts) ||
		got.startMs != 10 || got.updateMs != 11 || got.prevPID != -1 {
		t.Fatalf("round trip: %+v", got)
	}
}

func TestAddNothingWritesNothing(t *testing.T) {
	h := newHarness(t, nil)
	pid, _ := h.mustInit("a", 60000)
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version = 3
	req.TransactionalID, req.ProducerID, req.ProducerEpoch = "a", pid, 0
	if r := h.p.AddPartitions(t.Context(), req); r.ErrorCode != 0 || len(r.Topics) != 0 {
		t.Fatalf("empty add: %+v", r)
	}
	if s := h.state("a"); s != "Empty" || len(h.log.records()) != 1 {
		t.Fatalf("empty add changed something: %s, %d records", s, len(h.log.records()))
	}
}
