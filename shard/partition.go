package shard

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/metadata"
	"github.com/ailurus/ailurus/internal/storage"
)

// partition is one partition this shard leads: its log, the Raft group
// over it, and the state derived from it (idempotent producers, high
// watermark).
type partition struct {
	ps       *partitions
	topic    string
	topicID  metadata.UUID
	id       int32
	revision int64
	log      *storage.Log
	rep      *replica

	// mu orders idempotence checks with the Raft log: a batch's sequence is
	// checked and recorded in the same critical section that hands it to
	// Raft (whose apply queue keeps that order). Never held across fsync.
	mu        sync.Mutex
	producers map[int64]*producerState

	hwMu sync.Mutex // serialises high watermark moves
	hw   atomic.Int64

	txnMu sync.Mutex // guards txn; taken after hwMu
	txn   txnState   // open and aborted transactions (txnpart.go)
}

// applyTimeout bounds how long a produce waits to enqueue into Raft.
const applyTimeout = 30 * time.Second

func newPartition(ps *partitions, t *metadata.Topic, id int32, l *storage.Log) *partition {
	p := &partition{ps: ps, topic: t.Name, topicID: t.ID, id: id, revision: t.Revision, log: l,
		producers: map[int64]*producerState{}, txn: txnState{open: map[int64]int64{}}}
	// Everything recovered from disk was durable, hence committed for a
	// single replica.
	p.hw.Store(l.EndOffset())
	l.SetHighWatermark(l.EndOffset())
	l.SetLastStable(l.EndOffset())
	return p
}

func (p *partition) close() error {
	p.ps.s.groups.unload(p) // hooks: stop the coordinator of a __consumer_offsets
	p.ps.s.txns.unload(p)   // or __transaction_state partition
	var err error
	if p.rep != nil {
		err = p.rep.close(p.log.Stats().Bytes)
	}
	if cerr := p.log.Close(); err == nil {
		err = cerr
	}
	return err
}

// leaderEpoch is the Raft term, which is the Kafka leader epoch.
func (p *partition) leaderEpoch() int32 { return int32(p.rep.r.CurrentTerm()) }

// produceResult is what a produce of one partition gives back.
type produceResult struct {
	base    int64
	errCode int16
	msg     string
}

// pendingWrite is a produce handed to Raft and not yet committed.
type pendingWrite struct {
	res  produceResult
	futs []raft.ApplyFuture // one per batch
	dup  *seqEntry          // a retry of this earlier batch: answer with its offset
}

// write validates the client's record batches, runs the idempotence checks
// and hands the batches to Raft, in the order of the connection's requests
// (see writeTurn). The batches must stay untouched until commit returns:
// Raft writes them to the log in place.
func (p *partition) write(records []byte) pendingWrite {
	batches, err := splitBatches(records)
	if err != nil {
		return pendingWrite{res: produceResult{base: -1, errCode: kerr.CorruptMessage.Code, msg: err.Error()}}
	}
	for _, b := range batches {
		h, err := batch.Check(b)
		if err != nil {
			code := kerr.CorruptMessage.Code
			if errors.Is(err, batch.ErrInvalid) {
				code = kerr.InvalidRecord.Code
			}
			return pendingWrite{res: produceResult{base: -1, errCode: code, msg: err.Error()}}
		}
		// A producer's batch numbers its records 0..n-1 (Kafka refuses
		// anything else on produce): a batch claiming more offsets than it
		// has records would inflate the log's offsets.
		if h.IsControl() {
			return pendingWrite{res: produceResult{base: -1, errCode: kerr.InvalidRecord.Code,
				msg: "control batches are written by the transaction coordinator, not produced"}}
		}
		if h.NumRecords < 1 || h.LastOffsetDelta != h.NumRecords-1 {
			return pendingWrite{res: produceResult{base: -1, errCode: kerr.InvalidRecord.Code,
				msg: fmt.Sprintf("batch of %d records claims last offset delta %d", h.NumRecords, h.LastOffsetDelta)}}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range batches {
		h, _ := batch.Parse(b)
		if h.ProducerID < 0 {
			continue
		}
		d, code := p.checkSequence(h)
		if code != 0 {
			return pendingWrite{res: produceResult{base: -1, errCode: code}}
		}
		if d != nil {
			return pendingWrite{dup: d}
		}
	}
	w := pendingWrite{futs: make([]raft.ApplyFuture, len(batches))}
	for i, b := range batches {
		w.futs[i] = p.rep.r.Apply(b, applyTimeout)
		h, _ := batch.Parse(b)
		if h.ProducerID >= 0 {
			p.recordSequence(h, -1, w.futs[i])
		}
		metricRecordsIn.Add(float64(h.NumRecords))
	}
	metricBytesIn.Add(float64(len(records)))
	return w
}

// commit waits until w is committed and answers with its base offset. The
// FSM moves the high watermark as batches commit.
func (p *partition) commit(w pendingWrite) produceResult {
	if w.dup != nil {
		base, err := w.dup.offset()
		if err != nil {
			return produceResult{base: -1, errCode: raftErrCode(err), msg: err.Error()}
		}
		return produceResult{base: base}
	}
	if w.res.errCode != 0 || len(w.futs) == 0 {
		return w.res
	}
	res := produceResult{base: -1}
	for i, f := range w.futs {
		if err := f.Error(); err != nil {
			return produceResult{base: -1, errCode: raftErrCode(err), msg: err.Error()}
		}
		ab, ok := f.Response().(appliedBatch)
		if !ok {
			return produceResult{base: -1, errCode: kerr.UnknownServerError.Code, msg: fmt.Sprintf("apply: %v", f.Response())}
		}
		if i == 0 {
			res.base = ab.base
		}
	}
	return res
}

// advanceHW raises the high watermark to end. Durability is by sequence
// prefix, so when the append ending at end is durable so is every earlier one.
func (p *partition) advanceHW(end int64) {
	p.hwMu.Lock()
	if end > p.hw.Load() {
		p.hw.Store(end)
		p.log.SetHighWatermark(end)
	}
	p.txnMu.Lock()
	p.log.SetLastStable(p.lastStable(p.hw.Load()))
	p.txnMu.Unlock()
	p.hwMu.Unlock()
	p.ps.signalData()
}

// splitBatches cuts a produce request's records into whole batches.
func splitBatches(records []byte) ([][]byte, error) {
	if len(records) == 0 {
		return nil, errors.New("no record batches")
	}
	var out [][]byte
	for len(records) > 0 {
		h, err := batch.Parse(records)
		if err != nil {
			return nil, err
		}
		if h.Size() > int64(len(records)) {
			return nil, fmt.Errorf("batch of %d bytes in %d bytes of records", h.Size(), len(records))
		}
		out = append(out, records[:h.Size():h.Size()])
		records = records[h.Size():]
	}
	return out, nil
}

// storageErrCode maps storage errors to Kafka error codes.
func storageErrCode(err error) int16 {
	switch {
	case errors.Is(err, storage.ErrCorruptBatch):
		return kerr.CorruptMessage.Code
	case errors.Is(err, storage.ErrInvalidBatch):
		return kerr.InvalidRecord.Code
	case errors.Is(err, storage.ErrOffsetOutOfRange):
		return kerr.OffsetOutOfRange.Code
	case errors.Is(err, storage.ErrClosed):
		return kerr.NotLeaderForPartition.Code
	default:
		return kerr.KafkaStorageError.Code
	}
}
