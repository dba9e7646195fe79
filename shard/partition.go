package shard

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/metadata"
	"github.com/ailurus/ailurus/internal/storage"
)

// partition is one partition this shard leads: its log plus the state
// derived from it (idempotent producers, high watermark).
type partition struct {
	ps       *partitions
	topic    string
	topicID  metadata.UUID
	id       int32
	revision int64
	log      *storage.Log
	epoch    int32 // leader epoch written into batches

	// mu orders idempotence checks with log writes: a batch's sequence is
	// checked and recorded in the same critical section that writes it, so
	// the producer table always matches log order. Never held across fsync.
	mu        sync.Mutex
	producers map[int64]*producerState
	lastSeq   int64 // group-commit sequence of the newest write

	hwMu sync.Mutex // serialises high watermark moves
	hw   atomic.Int64
}

func newPartition(ps *partitions, t *metadata.Topic, id int32, l *storage.Log) *partition {
	p := &partition{ps: ps, topic: t.Name, topicID: t.ID, id: id, revision: t.Revision, log: l,
		producers: map[int64]*producerState{}}
	// Everything recovered from disk was durable, hence committed for a
	// single replica.
	p.hw.Store(l.EndOffset())
	l.SetHighWatermark(l.EndOffset())
	l.SetLastStable(l.EndOffset())
	return p
}

func (p *partition) close() error { return p.log.Close() }

// produceResult is what a produce of one partition gives back.
type produceResult struct {
	base    int64
	errCode int16
	msg     string
}

// pendingWrite is a produce written to the log and not yet durable.
type pendingWrite struct {
	res  produceResult
	seq  int64 // group-commit sequence to wait for; 0 if nothing to wait for
	last int64 // last offset written; -1 when nothing was (a duplicate)
}

// write appends the client's record batches to the log (page cache), after
// the idempotence checks, and returns what commit must wait for. Callers
// write a connection's requests in order (see writeTurn).
func (p *partition) write(records []byte) pendingWrite {
	batches, err := splitBatches(records)
	if err != nil {
		return pendingWrite{res: produceResult{base: -1, errCode: kerr.CorruptMessage.Code, msg: err.Error()}}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var dup *seqEntry
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
			dup = d
		}
	}
	if dup != nil {
		// A retry of a batch already written: answer with its offset once
		// the log is durable up to the end (it may still be in flight).
		return pendingWrite{res: produceResult{base: dup.base}, seq: p.lastSeq, last: -1}
	}
	ar, seq, err := p.log.Write(p.epoch, batches...)
	if err != nil {
		return pendingWrite{res: produceResult{base: -1, errCode: storageErrCode(err), msg: err.Error()}}
	}
	off := ar.BaseOffset
	for _, b := range batches {
		h, _ := batch.Parse(b)
		if h.ProducerID >= 0 {
			p.recordSequence(h, off)
		}
		off = h.NextOffset()
	}
	p.lastSeq = seq
	metricBytesIn.Add(float64(len(records)))
	return pendingWrite{res: produceResult{base: ar.BaseOffset}, seq: seq, last: ar.LastOffset}
}

// commit waits until w is durable (acks 1 and all) and moves the high
// watermark; with acks=0 it returns at once and the watermark moves later.
func (p *partition) commit(w pendingWrite, acks int16) produceResult {
	if w.seq == 0 || w.res.errCode != 0 {
		return w.res
	}
	if acks == 0 {
		go p.commitWhenDurable(w.seq, w.last+1)
		return w.res
	}
	if err := p.log.WaitDurable(w.seq); err != nil {
		return produceResult{base: -1, errCode: storageErrCode(err), msg: err.Error()}
	}
	if w.last >= 0 {
		p.advanceHW(w.last + 1)
	}
	return w.res
}

func (p *partition) commitWhenDurable(seq, end int64) {
	if p.log.WaitDurable(seq) == nil {
		p.advanceHW(end)
	}
}

// advanceHW raises the high watermark to end. Durability is by sequence
// prefix, so when the append ending at end is durable so is every earlier one.
func (p *partition) advanceHW(end int64) {
	p.hwMu.Lock()
	if end > p.hw.Load() {
		p.hw.Store(end)
		p.log.SetHighWatermark(end)
		p.log.SetLastStable(end)
	}
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
