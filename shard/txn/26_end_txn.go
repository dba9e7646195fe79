package txn

// EndTxn (key 26), versions 0-5. Ongoing: PrepareCommit or PrepareAbort is
// written (the commit point: the outcome is decided once it is durable),
// then the markers go to every partition of the transaction, then
// CompleteCommit or CompleteAbort is written, then the answer. If the
// markers (or the completion record) fail, the answer is still success and
// the markers are retried in the background with backoff until they
// succeed or the partition closes. A retry after completion with the same
// outcome succeeds; the other outcome, or EndTxn from Empty, is
// INVALID_TXN_STATE; during Prepare*, CONCURRENT_TRANSACTIONS. Producer id
// and epoch are checked as in AddPartitionsToTxn (INVALID_PRODUCER_EPOCH
// before v2). v5 answers carry the producer id and epoch unchanged (this
// coordinator speaks transaction version 1 only: no epoch bump per
// transaction, KIP-890).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// EndTxn answers an EndTxn request.
func (p *Partition) EndTxn(ctx context.Context, req *kmsg.EndTxnRequest) *kmsg.EndTxnResponse {
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	resp.ErrorCode = p.end(ctx, req, resp)
	return resp
}

func (p *Partition) end(ctx context.Context, req *kmsg.EndTxnRequest, resp *kmsg.EndTxnResponse) int16 {
	t, code := p.get(req.TransactionalID, false)
	if code != 0 {
		return code
	}
	if t == nil {
		return codeInvalidProducerIDMap
	}
	defer t.lk.Unlock()
	if code := p.check(t, req.ProducerID, req.ProducerEpoch, req.Version < 2); code != 0 {
		return code
	}
	switch t.m.st {
	case stOngoing:
	case stPrepareCommit, stPrepareAbort:
		return codeConcurrentTransactions
	case stCompleteCommit, stCompleteAbort:
		if (t.m.st == stCompleteCommit) != req.Commit {
			return codeInvalidTxnState
		}
		resp.ProducerID, resp.ProducerEpoch = t.m.pid, t.m.epoch
		return 0
	default:
		return codeInvalidTxnState
	}
	next := t.m.clone()
	next.st, next.updateMs = stPrepareAbort, p.nowMs()
	if req.Commit {
		next.st = stPrepareCommit
	}
	if code := p.write(ctx, t, next); code != 0 {
		return code
	}
	resp.ProducerID, resp.ProducerEpoch = next.pid, next.epoch
	if err := p.finish(ctx, t); err != nil {
		// Decided and durable: the producer may move on; the markers
		// follow in the background.
		p.log.Warn("transaction markers failed, retrying in the background", "transactional_id", t.id, "commit", req.Commit, "err", err)
		if !p.closed.Load() {
			p.finishLater(t, p.retryMin)
		}
	}
	return 0
}
