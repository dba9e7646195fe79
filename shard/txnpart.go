package shard

// Transactions as a data partition sees them (KIP-98). A transactional
// producer's batches carry the transactional attribute; the transaction
// coordinator ends the transaction by writing a control batch (a COMMIT or
// ABORT marker) to every partition it touched (WriteTxnMarkers). From those
// the partition derives:
//   - the open transactions: per producer, the offset of its first batch in
//     the transaction not yet ended by a marker;
//   - the last stable offset (LSO): the first offset of the oldest open
//     transaction, or the high watermark when none is open; read_committed
//     fetches stop there;
//   - the aborted transactions (producer, first offset, marker offset) that
//     read_committed fetches list so clients drop their records.
// The state is rebuilt from the log when the partition opens and kept up to
// date by the Raft FSM as batches commit.

import (
	"encoding/binary"
	"errors"
	"sort"
	"time"

	"github.com/hashicorp/raft"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/storage"
)

// abortedTxn is one aborted transaction of one producer on this partition.
type abortedTxn struct {
	pid         int64
	first, last int64 // first batch's offset, the ABORT marker's offset
}

// txnState is a partition's transaction bookkeeping, guarded by
// partition.txnMu.
type txnState struct {
	open    map[int64]int64 // producer id -> first offset of its open transaction
	aborted []abortedTxn    // ascending by last (markers are appended in order)
	// seen is the offset up to which batches were accounted: the Raft FSM
	// replays entries after a restart that the recovery scan already
	// counted, and skips them by this.
	seen int64
}

// Control record key types (Kafka's ControlRecordType).
const (
	markerAbort  = 0
	markerCommit = 1
)

// markerType decodes a control record's key: version int16, type int16.
func markerType(key []byte) (commit bool, ok bool) {
	if len(key) < 4 {
		return false, false
	}
	switch int16(binary.BigEndian.Uint16(key[2:])) {
	case markerAbort:
		return false, true
	case markerCommit:
		return true, true
	}
	return false, false
}

// controlBatch builds the marker a coordinator writes to end a transaction:
// one control record, key (version 0, type), value (version 0, coordinator
// epoch), in a transactional control batch of the producer.
func controlBatch(pid int64, epoch int16, commit bool, coordinatorEpoch int32) []byte {
	typ := uint16(markerAbort)
	if commit {
		typ = markerCommit
	}
	key := binary.BigEndian.AppendUint16([]byte{0, 0}, typ)
	val := binary.BigEndian.AppendUint32([]byte{0, 0}, uint32(coordinatorEpoch))
	body := batch.AppendRecord(nil, batch.Record{Key: key, Value: val})
	now := time.Now().UnixMilli()
	return batch.AppendBatch(nil, batch.Header{Attributes: batch.AttrTransactional | batch.AttrControl,
		BaseTimestamp: now, MaxTimestamp: now, ProducerID: pid, ProducerEpoch: epoch,
		BaseSequence: -1, NumRecords: 1}, body)
}

// firstMarker reads the control batch b and says whether it commits.
func firstMarker(b []byte) (commit bool, err error) {
	var dec batch.Decoder
	_, it, err := dec.Records(b)
	if err != nil {
		return false, err
	}
	r, ok := it.Next()
	if !ok {
		return false, errors.New("control batch without a record")
	}
	commit, ok = markerType(r.Key)
	if !ok {
		return false, errors.New("control record of unknown type")
	}
	return commit, nil
}

// applyTxn (Raft FSM goroutine) accounts a committed batch.
func (p *partition) applyTxn(h batch.Header, b []byte) {
	p.txnMu.Lock()
	defer p.txnMu.Unlock()
	if h.BaseOffset < p.txn.seen {
		return
	}
	p.txn.seen = h.NextOffset()
	p.accountTxn(h, func() (bool, error) { return firstMarker(b) })
}

// accountTxn (txnMu held) updates the open and aborted transactions for one
// batch; commit decodes a control batch's marker.
func (p *partition) accountTxn(h batch.Header, commit func() (bool, error)) {
	if h.ProducerID < 0 || !h.IsTransactional() {
		return
	}
	if !h.IsControl() {
		if _, ok := p.txn.open[h.ProducerID]; !ok {
			p.txn.open[h.ProducerID] = h.BaseOffset
		}
		return
	}
	c, err := commit()
	if err != nil {
		p.ps.s.log.Warn("unreadable transaction marker", "topic", p.topic, "partition", p.id, "offset", h.BaseOffset, "err", err)
		return
	}
	first, ok := p.txn.open[h.ProducerID]
	delete(p.txn.open, h.ProducerID)
	if !c && ok {
		p.txn.aborted = append(p.txn.aborted, abortedTxn{pid: h.ProducerID, first: first, last: h.BaseOffset})
	}
}

// lastStable (txnMu held) is the LSO for a high watermark hw.
func (p *partition) lastStable(hw int64) int64 {
	lso := hw
	for _, first := range p.txn.open {
		lso = min(lso, first)
	}
	return lso
}

// recoverTxns rebuilds the transaction state from the log (before the
// partition serves): headers for data batches, and the marker of each
// control batch read back from the log.
func (p *partition) recoverTxns(hdrs []batch.Header) error {
	p.txnMu.Lock()
	defer p.txnMu.Unlock()
	var sl storage.Slice
	defer sl.Release()
	var buf []byte
	for _, h := range hdrs {
		p.accountTxn(h, func() (bool, error) {
			sl.Release()
			if err := p.log.Read(h.BaseOffset, h.NextOffset(), 1, &sl); err != nil {
				return false, err
			}
			var err error
			if buf, err = sl.AppendTo(buf[:0]); err != nil {
				return false, err
			}
			return firstMarker(buf)
		})
	}
	p.txn.seen = p.log.EndOffset()
	p.log.SetLastStable(p.lastStable(p.hw.Load()))
	return nil
}

// abortedIn lists, for a read_committed fetch of [from, to), the aborted
// transactions whose records may be in it: those whose marker is at or
// after from and whose first batch is before to.
func (p *partition) abortedIn(from, to int64) []kmsg.FetchResponseTopicPartitionAbortedTransaction {
	p.txnMu.Lock()
	defer p.txnMu.Unlock()
	out := []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
	i := sort.Search(len(p.txn.aborted), func(i int) bool { return p.txn.aborted[i].last >= from })
	for _, a := range p.txn.aborted[i:] {
		if a.first < to {
			at := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
			at.ProducerID, at.FirstOffset = a.pid, a.first
			out = append(out, at)
		}
	}
	return out
}

// trimAborted drops aborted transactions wholly before the log start.
func (p *partition) trimAborted(start int64) {
	p.txnMu.Lock()
	defer p.txnMu.Unlock()
	i := sort.Search(len(p.txn.aborted), func(i int) bool { return p.txn.aborted[i].last >= start })
	if i > 0 {
		p.txn.aborted = append(p.txn.aborted[:0], p.txn.aborted[i:]...)
	}
}

// writeOwn appends a batch the node built for producer pid (a transaction
// marker, or a group coordinator's transactional offset commit), durable
// before it returns. It skips the sequence checks of client batches; an
// epoch older than the producer's is refused (INVALID_PRODUCER_EPOCH), and
// a newer one fences the producer's older epochs from here on, as a
// coordinator that aborted on timeout intends.
func (p *partition) writeOwn(b []byte, pid int64, epoch int16) produceResult {
	p.mu.Lock()
	st := p.producers[pid]
	if st != nil && epoch < st.epoch {
		p.mu.Unlock()
		return produceResult{base: -1, errCode: kerr.InvalidProducerEpoch.Code}
	}
	if st == nil || epoch > st.epoch {
		p.producers[pid] = &producerState{epoch: epoch}
	}
	w := pendingWrite{futs: []raft.ApplyFuture{p.rep.r.Apply(b, applyTimeout)}}
	p.mu.Unlock()
	return p.commit(w)
}
