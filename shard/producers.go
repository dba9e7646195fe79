package shard

import (
	"fmt"

	"github.com/hashicorp/raft"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/ailurus/ailurus/internal/batch"
)

// Idempotent producer state, per partition, as Kafka keeps it (KIP-98): for
// each producer id its epoch and its last five batches' sequence ranges, so
// a retried batch is recognised and answered with its original offset, and a
// gap is refused with OUT_OF_ORDER_SEQUENCE_NUMBER. Rebuilt from the log's
// batch headers when the partition opens, so it survives restarts.

const producerWindow = 5

type seqEntry struct {
	first, last int32 // sequence range of the batch
	base        int64 // its base offset; -1 while fut is pending
	fut         raft.ApplyFuture
}

// offset is the batch's base offset, waiting for its commit if needed.
func (e *seqEntry) offset() (int64, error) {
	if e.fut == nil {
		return e.base, nil
	}
	if err := e.fut.Error(); err != nil {
		return -1, err
	}
	ab, ok := e.fut.Response().(appliedBatch)
	if !ok {
		return -1, fmt.Errorf("apply: %v", e.fut.Response())
	}
	return ab.base, nil
}

type producerState struct {
	epoch         int16
	lastTimestamp int64 // max timestamp of its last batch (DescribeProducers)
	batches       [producerWindow]seqEntry
	n             int // entries used, up to producerWindow; newest at (n-1)%window
	next          int // ring position of the next entry
}

func (st *producerState) lastSeq() int32 {
	return st.batches[(st.next+producerWindow-1)%producerWindow].last
}

// checkSequence (p.mu held) decides whether a batch may be written: nil and
// 0 to write it, a previous entry for a duplicate, or an error code.
func (p *partition) checkSequence(h batch.Header) (*seqEntry, int16) {
	last := h.BaseSequence + h.LastOffsetDelta
	st := p.producers[h.ProducerID]
	if st == nil {
		if h.BaseSequence != 0 {
			return nil, kerr.OutOfOrderSequenceNumber.Code
		}
		return nil, 0
	}
	switch {
	case h.ProducerEpoch < st.epoch:
		return nil, kerr.InvalidProducerEpoch.Code
	case h.ProducerEpoch > st.epoch:
		if h.BaseSequence != 0 {
			return nil, kerr.OutOfOrderSequenceNumber.Code
		}
		return nil, 0
	}
	for i := 0; i < st.n; i++ {
		e := &st.batches[i]
		if e.first == h.BaseSequence && e.last == last {
			return e, 0
		}
	}
	if st.n == 0 { // a new epoch, set by a transaction marker
		if h.BaseSequence != 0 {
			return nil, kerr.OutOfOrderSequenceNumber.Code
		}
		return nil, 0
	}
	if h.BaseSequence != nextSeq(st.lastSeq()) {
		return nil, kerr.OutOfOrderSequenceNumber.Code
	}
	return nil, 0
}

// nextSeq is the sequence after s; sequences wrap at int32 max to 0.
func nextSeq(s int32) int32 {
	if s == 1<<31-1 {
		return 0
	}
	return s + 1
}

// recordSequence (p.mu held) notes a written batch: at base, or, while its
// commit is pending, through fut.
func (p *partition) recordSequence(h batch.Header, base int64, fut raft.ApplyFuture) {
	st := p.producers[h.ProducerID]
	if st == nil || h.ProducerEpoch > st.epoch {
		st = &producerState{epoch: h.ProducerEpoch}
		p.producers[h.ProducerID] = st
	}
	st.lastTimestamp = h.MaxTimestamp
	st.batches[st.next] = seqEntry{first: h.BaseSequence, last: h.BaseSequence + h.LastOffsetDelta, base: base, fut: fut}
	st.next = (st.next + 1) % producerWindow
	if st.n < producerWindow {
		st.n++
	}
}

// recoverProducers rebuilds the producer table and the transaction state
// from the log.
func (p *partition) recoverProducers() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var txns []batch.Header
	err := p.log.ScanHeaders(p.log.StartOffset(), func(h batch.Header) bool {
		if h.ProducerID < 0 {
			return true
		}
		if h.IsTransactional() {
			txns = append(txns, h)
		}
		if !h.IsControl() {
			p.recordSequence(h, h.BaseOffset, nil)
		} else if st := p.producers[h.ProducerID]; st == nil || h.ProducerEpoch > st.epoch {
			p.producers[h.ProducerID] = &producerState{epoch: h.ProducerEpoch} // a marker's epoch fences older ones
		}
		return true
	})
	if err != nil {
		return err
	}
	return p.recoverTxns(txns)
}
