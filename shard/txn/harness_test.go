package txn

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/testkit"
)

// fakeLog records appended records; it fails the next failN appends with
// fail (failN < 0: every append).
type fakeLog struct {
	mu    sync.Mutex
	recs  []Record
	fail  error
	failN int
}

func (l *fakeLog) Append(ctx context.Context, recs []Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil && l.failN != 0 {
		if l.failN > 0 {
			l.failN--
		}
		return l.fail
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, r := range recs {
		l.recs = append(l.recs, Record{Key: slices.Clone(r.Key), Value: slices.Clone(r.Value)})
	}
	return nil
}

func (l *fakeLog) setFail(err error, n int) {
	l.mu.Lock()
	l.fail, l.failN = err, n
	l.mu.Unlock()
}

func (l *fakeLog) records() []Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.recs)
}

// states is the sequence of states written for id.
func (l *fakeLog) states(t *testing.T, id string) []string {
	t.Helper()
	var out []string
	for _, r := range l.records() {
		var k kmsg.TxnMetadataKey
		if err := k.ReadFrom(r.Key); err != nil {
			t.Fatalf("bad key: %v", err)
		}
		if k.TransactionalID != id {
			continue
		}
		var v kmsg.TxnMetadataValue
		if err := v.ReadFrom(r.Value); err != nil {
			t.Fatalf("bad value: %v", err)
		}
		out = append(out, v.State.String())
	}
	return out
}

type markerCall struct {
	pid        int64
	epoch      int16
	commit     bool
	coordEpoch int32
	tps        []TP
	err        error
}

// fakeMarkers records every call; it fails the next failN calls with fail
// (failN < 0: every call); with block set, calls wait for it or the
// context.
type fakeMarkers struct {
	mu    sync.Mutex
	calls []markerCall
	fail  error
	failN int
	block chan struct{}
}

func (f *fakeMarkers) WriteMarkers(ctx context.Context, pid int64, epoch int16, commit bool, coordEpoch int32, tps []TP) error {
	f.mu.Lock()
	block := f.block
	var err error
	if f.fail != nil && f.failN != 0 {
		if f.failN > 0 {
			f.failN--
		}
		err = f.fail
	}
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	f.mu.Lock()
	f.calls = append(f.calls, markerCall{pid, epoch, commit, coordEpoch, slices.Clone(tps), err})
	f.mu.Unlock()
	return err
}

func (f *fakeMarkers) setFail(err error, n int) {
	f.mu.Lock()
	f.fail, f.failN = err, n
	f.mu.Unlock()
}

// done is the successful calls.
func (f *fakeMarkers) done() []markerCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []markerCall
	for _, c := range f.calls {
		if c.err == nil {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeMarkers) attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

type harness struct {
	t   *testing.T
	p   *Partition
	log *fakeLog
	mk  *fakeMarkers
	clk *testkit.Clock
	cfg Config
	pid atomic.Int64
}

var errDisk = errors.New("disk on fire")

func quietLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.Default()
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newHarness builds a loaded (not started) Partition over fakes; mod may
// change the config. Closed by t.Cleanup.
func newHarness(t *testing.T, mod func(*Config)) *harness {
	h := &harness{t: t, log: &fakeLog{}, mk: &fakeMarkers{}, clk: testkit.NewClock(time.Unix(1_700_000_000, 0))}
	h.pid.Store(1000)
	h.cfg = Config{
		Log: h.log, Markers: h.mk, Logger: quietLogger(), Now: h.clk.Now,
		NextPID:          func() (int64, error) { return h.pid.Add(1), nil },
		ValidPartition:   func(topic string, _ int32) bool { return topic != "nope" },
		GroupPartition:   func(g string) int32 { return int32(len(g)) },
		CoordinatorEpoch: 7,
		TickInterval:     time.Millisecond,
	}
	if mod != nil {
		mod(&h.cfg)
	}
	h.p = h.newPartition(nil)
	h.p.LoadDone()
	return h
}

// newPartition builds another Partition on the harness' config, fed recs.
func (h *harness) newPartition(recs []Record) *Partition {
	p := NewPartition(h.cfg)
	p.retryMin, p.retryMax = time.Millisecond, 4*time.Millisecond
	for _, r := range recs {
		p.Load(r.Key, r.Value)
	}
	h.t.Cleanup(p.Close)
	return p
}

func (h *harness) init(id string, timeoutMs int32) *kmsg.InitProducerIDResponse {
	return h.initWith(h.p, id, timeoutMs, -1, -1, 4)
}

func (h *harness) initWith(p *Partition, id string, timeoutMs int32, pid int64, epoch int16, version int16) *kmsg.InitProducerIDResponse {
	req := kmsg.NewPtrInitProducerIDRequest()
	req.Version = version
	req.TransactionalID = &id
	req.TransactionTimeoutMillis = timeoutMs
	req.ProducerID, req.ProducerEpoch = pid, epoch
	return p.InitProducerID(context.Background(), req)
}

// mustInit initializes id and returns its producer id and epoch.
func (h *harness) mustInit(id string, timeoutMs int32) (int64, int16) {
	h.t.Helper()
	r := h.init(id, timeoutMs)
	if r.ErrorCode != 0 {
		h.t.Fatalf("InitProducerId %s: %v", id, kerr.ErrorForCode(r.ErrorCode))
	}
	return r.ProducerID, r.ProducerEpoch
}

func (h *harness) addReq(id string, pid int64, epoch int16, version int16, topic string, parts ...int32) *kmsg.AddPartitionsToTxnRequest {
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version = version
	req.TransactionalID, req.ProducerID, req.ProducerEpoch = id, pid, epoch
	rt := kmsg.NewAddPartitionsToTxnRequestTopic()
	rt.Topic, rt.Partitions = topic, parts
	req.Topics = append(req.Topics, rt)
	return req
}

// add adds partitions of one topic and returns the code shared by every
// partition of the answer.
func (h *harness) add(id string, pid int64, epoch int16, topic string, parts ...int32) int16 {
	h.t.Helper()
	return h.addWith(h.p, id, pid, epoch, 3, topic, parts...)
}

func (h *harness) addWith(p *Partition, id string, pid int64, epoch int16, version int16, topic string, parts ...int32) int16 {
	h.t.Helper()
	r := p.AddPartitions(context.Background(), h.addReq(id, pid, epoch, version, topic, parts...))
	return sameCode(h.t, r)
}

func sameCode(t *testing.T, r *kmsg.AddPartitionsToTxnResponse) int16 {
	t.Helper()
	code := int16(-100)
	for _, rt := range r.Topics {
		for _, rp := range rt.Partitions {
			if code != -100 && rp.ErrorCode != code {
				t.Fatalf("partitions answered different codes: %+v", r.Topics)
			}
			code = rp.ErrorCode
		}
	}
	return code
}

func (h *harness) end(id string, pid int64, epoch int16, commit bool) int16 {
	return h.endWith(h.p, id, pid, epoch, commit, 3)
}

func (h *harness) endWith(p *Partition, id string, pid int64, epoch int16, commit bool, version int16) int16 {
	req := kmsg.NewPtrEndTxnRequest()
	req.Version = version
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = id, pid, epoch, commit
	return p.EndTxn(context.Background(), req).ErrorCode
}

func (h *harness) state(id string) string {
	h.t.Helper()
	d := h.p.Describe(id)
	if d.ErrorCode != 0 {
		h.t.Fatalf("Describe %s: %v", id, kerr.ErrorForCode(d.ErrorCode))
	}
	return d.State
}

func wantCode(t *testing.T, what string, got, want int16) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, kerr.ErrorForCode(got), kerr.ErrorForCode(want))
	}
}
