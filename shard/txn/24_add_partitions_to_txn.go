package txn

// AddPartitionsToTxn (key 24), versions 0-3 (the producer's request shape:
// TransactionalID, ProducerID, ProducerEpoch, Topics); v4+ (KIP-890 broker
// verification) answers UNSUPPORTED_VERSION. If any partition is unknown
// (Config.ValidPartition) nothing happens: unknown ones answer
// UNKNOWN_TOPIC_OR_PARTITION, the others OPERATION_NOT_ATTEMPTED. Otherwise
// one code for every partition: INVALID_PRODUCER_ID_MAPPING for an unknown
// id or another producer id, PRODUCER_FENCED for another epoch
// (INVALID_PRODUCER_EPOCH before v2, KIP-588), CONCURRENT_TRANSACTIONS while
// the previous transaction completes; Empty, CompleteCommit and
// CompleteAbort start a transaction (Ongoing, start timestamp now).
// Partitions already in the transaction (or none) write nothing.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// AddPartitions answers an AddPartitionsToTxn request (v0-v3 shape).
func (p *Partition) AddPartitions(ctx context.Context, req *kmsg.AddPartitionsToTxnRequest) *kmsg.AddPartitionsToTxnResponse {
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	if req.Version >= 4 {
		resp.ErrorCode = codeUnsupportedVersion
		return resp
	}
	var tps []TP
	unknown := false
	for _, rt := range req.Topics {
		for _, part := range rt.Partitions {
			tps = append(tps, TP{rt.Topic, part})
			if p.cfg.ValidPartition != nil && !p.cfg.ValidPartition(rt.Topic, part) {
				unknown = true
			}
		}
	}
	code := int16(0)
	if p.closed.Load() {
		code = codeNotCoordinator
	} else if !unknown {
		code = p.add(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Version < 2, tps)
	}
	for _, rt := range req.Topics {
		st := kmsg.NewAddPartitionsToTxnResponseTopic()
		st.Topic = rt.Topic
		for _, part := range rt.Partitions {
			sp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
			sp.Partition, sp.ErrorCode = part, code
			if unknown && code == 0 {
				sp.ErrorCode = codeOperationNotAttempted
				if !p.cfg.ValidPartition(rt.Topic, part) {
					sp.ErrorCode = codeUnknownTopicPartition
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// AddOffsets answers an AddOffsetsToTxn request (key 25, versions 0-4): the
// group's __consumer_offsets partition joins the transaction, with the
// checks and codes of AddPartitions (INVALID_PRODUCER_EPOCH before v2).
func (p *Partition) AddOffsets(ctx context.Context, req *kmsg.AddOffsetsToTxnRequest) *kmsg.AddOffsetsToTxnResponse {
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	if p.closed.Load() {
		resp.ErrorCode = codeNotCoordinator
		return resp
	}
	tp := TP{offsetsTopic, p.cfg.GroupPartition(req.Group)}
	resp.ErrorCode = p.add(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Version < 2, []TP{tp})
	return resp
}

// add puts tps into the transaction of id, starting one if needed.
func (p *Partition) add(ctx context.Context, id string, pid int64, epoch int16, preKIP588 bool, tps []TP) int16 {
	t, code := p.get(id, false)
	if code != 0 {
		return code
	}
	if t == nil {
		return codeInvalidProducerIDMap
	}
	defer t.lk.Unlock()
	if code := p.check(t, pid, epoch, preKIP588); code != 0 {
		return code
	}
	switch t.m.st {
	case stPrepareCommit, stPrepareAbort:
		return codeConcurrentTransactions
	case stOngoing, stEmpty, stCompleteCommit, stCompleteAbort:
	default:
		return codeInvalidTxnState
	}
	if len(tps) == 0 || t.m.st == stOngoing && t.m.has(tps) {
		return 0 // nothing new: nothing written
	}
	next := t.m.clone()
	now := p.nowMs()
	if next.st != stOngoing {
		next.st, next.parts, next.startMs = stOngoing, nil, now
	}
	next.parts = union(next.parts, tps)
	next.updateMs = now
	return p.write(ctx, t, next)
}

// check is the producer id and epoch check of AddPartitionsToTxn,
// AddOffsetsToTxn and EndTxn. Called with t.lk held.
func (p *Partition) check(t *txn, pid int64, epoch int16, preKIP588 bool) int16 {
	switch {
	case !t.exists || pid != t.m.pid:
		return codeInvalidProducerIDMap
	case epoch != t.m.epoch:
		return fencedCode(preKIP588)
	}
	return 0
}
