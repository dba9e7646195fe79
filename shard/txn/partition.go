package txn

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Config.
const (
	defaultMaxTimeout   = 15 * time.Minute
	defaultTickInterval = time.Second
	// logTimeout bounds one Log.Append.
	logTimeout = 30 * time.Second
	// Backoff of the markers of a decided transaction that failed.
	retryMin = 100 * time.Millisecond
	retryMax = 10 * time.Second
)

// Partition is the coordinator of the transactional ids hashed to one
// partition of __transaction_state. Built by the shard when the partition
// opens, fed the partition's records (Load, LoadDone), started (Start) and
// closed when the partition closes or moves (Close); after Close every
// request answers NOT_COORDINATOR and the next owner reloads the records.
// Safe for concurrent use by request goroutines.
type Partition struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex // guards txns and the start of goroutines (wg.Add)
	txns    map[string]*txn
	loaded  atomic.Bool // set by LoadDone
	closed  atomic.Bool // set by Close, under mu
	started bool        // guarded by mu

	ctx    context.Context // cancelled by Close: stops the loop, retries and in-flight Log/Markers calls
	cancel context.CancelFunc
	wg     sync.WaitGroup // goroutines started by goTracked

	// Backoff of marker retries; tests shorten them.
	retryMin, retryMax time.Duration
}

// NewPartition builds the coordinator. Call Load with the partition's
// records, then LoadDone, then Start.
func NewPartition(cfg Config) *Partition {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxTimeout <= 0 {
		cfg.MaxTimeout = defaultMaxTimeout
	}
	if cfg.TickInterval <= 0 {
		cfg.TickInterval = defaultTickInterval
	}
	if cfg.GroupPartition == nil {
		cfg.GroupPartition = func(string) int32 { return 0 }
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Partition{cfg: cfg, log: cfg.Logger.With("subsys", "txn"), txns: map[string]*txn{},
		ctx: ctx, cancel: cancel, retryMin: retryMin, retryMax: retryMax}
}

func (p *Partition) now() time.Time { return p.cfg.Now() }

func (p *Partition) nowMs() int64 { return p.now().UnixMilli() }

// Start runs the background work until Close: transactions loaded in
// PrepareCommit or PrepareAbort are finished (markers, then Complete*), and
// every TickInterval Ongoing transactions past their timeout are aborted.
// Calls after the first do nothing.
func (p *Partition) Start() {
	p.mu.Lock()
	if p.started {
		p.mu.Unlock()
		return
	}
	p.started = true
	p.mu.Unlock()
	for _, t := range p.snapshot() {
		t.lk.Lock()
		if t.exists && prepared(t.m.st) {
			p.log.Info("finishing transaction decided before load", "transactional_id", t.id, "state", t.m.st.String())
			p.finishLater(t, 0)
		}
		t.lk.Unlock()
	}
	p.goTracked(func() {
		tk := time.NewTicker(p.cfg.TickInterval)
		defer tk.Stop()
		for {
			select {
			case <-p.ctx.Done():
				return
			case <-tk.C:
			}
			p.abortExpired()
		}
	})
}

// Close stops the background work, cancels Log and Markers calls in flight
// and waits for the Partition's goroutines; afterwards every request
// answers NOT_COORDINATOR. Transactions left in Prepare* are finished by
// the next owner of the partition.
func (p *Partition) Close() {
	p.mu.Lock()
	if p.closed.Load() {
		p.mu.Unlock()
		return
	}
	p.closed.Store(true)
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
}

// Closed says whether the coordinator has been closed: requests then answer
// NOT_COORDINATOR.
func (p *Partition) Closed() bool { return p.closed.Load() }

// goTracked runs f in a goroutine that Close waits for; false if closed.
func (p *Partition) goTracked(f func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Load() {
		return false
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
	return true
}

// snapshot is the list of ids' states.
func (p *Partition) snapshot() []*txn {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*txn, 0, len(p.txns))
	for _, t := range p.txns {
		out = append(out, t)
	}
	return out
}

// get returns the id's txn locked, creating an invisible entry when create
// is set; nil when it does not exist. A non-zero code (NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS) means nothing was returned.
func (p *Partition) get(id string, create bool) (*txn, int16) {
	if p.closed.Load() {
		return nil, codeNotCoordinator
	}
	if !p.loaded.Load() {
		return nil, codeLoadInProgress
	}
	p.mu.Lock()
	t := p.txns[id]
	if t == nil {
		if !create {
			p.mu.Unlock()
			return nil, 0
		}
		t = &txn{id: id}
		p.txns[id] = t
	}
	p.mu.Unlock()
	t.lk.Lock()
	if p.closed.Load() {
		t.lk.Unlock()
		return nil, codeNotCoordinator
	}
	return t, 0
}

// opCtx derives a context from ctx that Close also cancels.
func (p *Partition) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(p.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

// write makes m the id's durable state, then installs it. Called with t.lk
// held. On failure nothing changes and the code to answer comes back:
// NOT_COORDINATOR when the partition moved or closed, else
// COORDINATOR_NOT_AVAILABLE.
func (p *Partition) write(ctx context.Context, t *txn, m meta) int16 {
	ctx, cancel := p.opCtx(ctx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, logTimeout)
	defer cancelT()
	if err := p.cfg.Log.Append(ctx, []Record{{Key: txnKey(t.id), Value: txnValue(m)}}); err != nil {
		p.log.Warn("write to __transaction_state failed", "transactional_id", t.id, "state", m.st.String(), "err", err)
		if errors.Is(err, ErrNotCoordinator) || p.closed.Load() {
			return codeNotCoordinator
		}
		return codeCoordinatorNotAvail
	}
	t.m, t.exists = m, true
	t.lastInit.ok = false
	return 0
}

// finish writes the markers of t's decided (Prepare*) transaction and then
// records CompleteCommit or CompleteAbort. Called with t.lk held and
// t.finishing unset; t.lk is released while the markers are written and
// held again on return.
func (p *Partition) finish(ctx context.Context, t *txn) error {
	m := t.m
	commit := m.st == stPrepareCommit
	t.finishing = true
	t.lk.Unlock()
	mctx, cancel := p.opCtx(ctx)
	err := p.cfg.Markers.WriteMarkers(mctx, m.pid, m.epoch, commit, p.cfg.CoordinatorEpoch, slices.Clone(m.parts))
	cancel()
	t.lk.Lock()
	t.finishing = false
	if err != nil {
		return err
	}
	if p.closed.Load() {
		return ErrNotCoordinator
	}
	next := m.clone()
	next.st, next.parts, next.updateMs = stCompleteAbort, nil, p.nowMs()
	if commit {
		next.st = stCompleteCommit
	}
	if code := p.write(ctx, t, next); code != 0 {
		return errors.New("recording the completion failed")
	}
	p.log.Debug("transaction completed", "transactional_id", t.id, "pid", m.pid, "epoch", m.epoch, "state", next.st.String())
	return nil
}

// finishLater finishes t's decided transaction in the background, retrying
// with backoff until it is done or the partition closes; the first attempt
// waits wait. Called with t.lk held; at most one retry goroutine per id.
func (p *Partition) finishLater(t *txn, wait time.Duration) {
	if t.retrying {
		return
	}
	t.retrying = true
	ok := p.goTracked(func() {
		backoff := p.retryMin
		for {
			if wait > 0 {
				tm := time.NewTimer(wait)
				select {
				case <-p.ctx.Done():
					tm.Stop()
					t.lk.Lock()
					t.retrying = false
					t.lk.Unlock()
					return
				case <-tm.C:
				}
			}
			t.lk.Lock()
			// retrying is cleared in the same critical section as the
			// decision to stop, so that a finisher failing later always
			// starts a new retry goroutine.
			if p.closed.Load() || !prepared(t.m.st) || t.finishing {
				t.retrying = false
				t.lk.Unlock()
				return
			}
			err := p.finish(p.ctx, t)
			if err == nil || p.closed.Load() {
				t.retrying = false
				t.lk.Unlock()
				return
			}
			t.lk.Unlock()
			p.log.Warn("transaction markers failed, retrying", "transactional_id", t.id, "backoff", backoff, "err", err)
			wait = backoff
			backoff = min(2*backoff, p.retryMax)
		}
	})
	if !ok {
		t.retrying = false
	}
}

// abortExpired aborts the Ongoing transactions past their timeout: the
// epoch is bumped so that the producer is fenced, PrepareAbort is written,
// and the markers are written in the background.
func (p *Partition) abortExpired() {
	now := p.nowMs()
	for _, t := range p.snapshot() {
		if p.closed.Load() {
			return
		}
		t.lk.Lock()
		if t.exists && t.m.st == stOngoing && now > t.m.startMs+int64(t.m.timeoutMs) {
			if code := p.fenceAbort(p.ctx, t); code == 0 {
				p.log.Info("transaction timed out, aborting", "transactional_id", t.id, "pid", t.m.pid, "epoch", t.m.epoch)
				p.finishLater(t, 0)
			}
		}
		t.lk.Unlock()
	}
}

// fenceAbort decides the abort of t's Ongoing transaction with the epoch
// bumped (Kafka's epoch fence): the producer's next request with its old
// epoch is refused, and the markers carry the new epoch. Called with t.lk
// held. InitProducerID never hands out MaxInt16, so the bump does not
// overflow; a state loaded at MaxInt16 is aborted without a bump.
func (p *Partition) fenceAbort(ctx context.Context, t *txn) int16 {
	next := t.m.clone()
	if next.epoch < math.MaxInt16 {
		next.epoch++
	}
	next.st, next.updateMs = stPrepareAbort, p.nowMs()
	return p.write(ctx, t, next)
}
