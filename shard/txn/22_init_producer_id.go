package txn

// InitProducerId (key 22), versions 0-5 with a transactional id: a new id
// gets a fresh producer id at epoch 0; a known id gets its epoch bumped
// (fencing the previous producer), or a fresh producer id at epoch 0 when
// the epoch would reach MaxInt16. An Ongoing transaction is aborted first
// (epoch fence, ABORT markers, CompleteAbort), synchronously: Kafka answers
// CONCURRENT_TRANSACTIONS and lets the client retry, we bump once more and
// answer once the abort is done, or CONCURRENT_TRANSACTIONS if its markers
// failed (they are then retried in the background). v3+ (KIP-360) may carry the producer's
// current id and epoch: they must be the current ones, or those of the
// request that produced the current epoch (a retry: same answer), or the
// producer id replaced after an epoch overflow while no transaction has
// started since; anything else is PRODUCER_FENCED (INVALID_PRODUCER_EPOCH
// before v4, KIP-588). Without a transactional id (idempotent producer) a
// fresh producer id is handed out and nothing is written.

import (
	"context"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// InitProducerID answers an InitProducerId request.
func (p *Partition) InitProducerID(ctx context.Context, req *kmsg.InitProducerIDRequest) *kmsg.InitProducerIDResponse {
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	fail := func(code int16) *kmsg.InitProducerIDResponse {
		resp.ErrorCode = code
		return resp
	}
	if p.closed.Load() {
		return fail(codeNotCoordinator)
	}
	if req.TransactionalID == nil {
		pid, err := p.cfg.NextPID()
		if err != nil {
			p.log.Warn("producer id allocation failed", "err", err)
			return fail(codeCoordinatorNotAvail)
		}
		resp.ProducerID, resp.ProducerEpoch = pid, 0
		return resp
	}
	id := *req.TransactionalID
	if id == "" {
		return fail(codeInvalidRequest)
	}
	timeout := time.Duration(req.TransactionTimeoutMillis) * time.Millisecond
	if req.TransactionTimeoutMillis <= 0 || timeout > p.cfg.MaxTimeout {
		return fail(codeInvalidTxnTimeout)
	}
	t, code := p.get(id, true)
	if code != 0 {
		return fail(code)
	}
	defer t.lk.Unlock()
	now := p.nowMs()

	if !t.exists {
		pid, err := p.cfg.NextPID()
		if err != nil {
			p.log.Warn("producer id allocation failed", "err", err)
			return fail(codeCoordinatorNotAvail)
		}
		m := meta{pid: pid, epoch: 0, prevPID: -1, timeoutMs: req.TransactionTimeoutMillis, st: stEmpty, startMs: -1, updateMs: now}
		if code := p.write(ctx, t, m); code != 0 {
			return fail(code)
		}
		p.log.Debug("producer id assigned", "transactional_id", id, "pid", pid)
		resp.ProducerID, resp.ProducerEpoch = pid, 0
		return resp
	}

	carries := req.ProducerID != -1
	if carries {
		switch {
		case req.ProducerID == t.m.pid && req.ProducerEpoch == t.m.epoch:
			// The producer's own current epoch: bump below.
		case t.lastInit.ok && req.ProducerID == t.lastInit.pid && req.ProducerEpoch == t.lastInit.epoch,
			t.m.prevPID >= 0 && req.ProducerID == t.m.prevPID && t.m.st == stEmpty:
			// A retry of the request that produced the current epoch.
			resp.ProducerID, resp.ProducerEpoch = t.m.pid, t.m.epoch
			return resp
		default:
			return fail(fencedCode(req.Version < 4))
		}
	}

	switch t.m.st {
	case stPrepareCommit, stPrepareAbort:
		return fail(codeConcurrentTransactions)
	case stOngoing:
		// Abort the open transaction with a fenced epoch before moving on.
		if code := p.fenceAbort(ctx, t); code != 0 {
			return fail(code)
		}
		p.log.Info("aborting open transaction for a new producer", "transactional_id", id, "pid", t.m.pid, "epoch", t.m.epoch)
		if err := p.finish(ctx, t); err != nil {
			p.log.Warn("abort markers failed, retrying in the background", "transactional_id", id, "err", err)
			if p.closed.Load() {
				return fail(codeNotCoordinator)
			}
			p.finishLater(t, p.retryMin)
			return fail(codeConcurrentTransactions)
		}
	case stEmpty, stCompleteCommit, stCompleteAbort:
	default:
		return fail(codeConcurrentTransactions)
	}

	next := t.m.clone()
	if next.epoch >= math.MaxInt16-1 {
		// The epoch would reach MaxInt16: a new producer id.
		pid, err := p.cfg.NextPID()
		if err != nil {
			p.log.Warn("producer id allocation failed", "err", err)
			return fail(codeCoordinatorNotAvail)
		}
		next.prevPID, next.pid, next.epoch = next.pid, pid, 0
	} else {
		next.epoch++
	}
	next.timeoutMs = req.TransactionTimeoutMillis
	next.st, next.parts, next.startMs, next.updateMs = stEmpty, nil, -1, p.nowMs()
	if code := p.write(ctx, t, next); code != 0 {
		return fail(code)
	}
	if carries {
		t.lastInit.ok, t.lastInit.pid, t.lastInit.epoch = true, req.ProducerID, req.ProducerEpoch
	}
	resp.ProducerID, resp.ProducerEpoch = next.pid, next.epoch
	return resp
}
