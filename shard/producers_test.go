package shard

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/batch/batchtest"
)

func idempotentBatch(pid int64, epoch int16, seq int32, n int) []byte {
	recs := make([]batchtest.Record, n)
	for i := range recs {
		recs[i] = batchtest.Record{Value: []byte{byte(seq), byte(i)}}
	}
	return batchtest.Build(batchtest.Options{ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq}, recs...)
}

// TestIdempotentProducerSurvivesRestart: sequence checks (KIP-98) hold across
// a restart of the partition: a retried batch gets its original offset, a
// gap is OUT_OF_ORDER_SEQUENCE_NUMBER, an old epoch INVALID_PRODUCER_EPOCH.
func TestIdempotentProducerSurvivesRestart(t *testing.T) {
	s := testShard(t)
	produce := func(b []byte) produceResult {
		p := s.parts.await(t.Context(), "t", 0)
		if p == nil {
			t.Fatal("partition t/0 not open")
		}
		return p.commit(p.write(b))
	}
	const pid = 4242
	r0 := produce(idempotentBatch(pid, 0, 0, 3))
	r1 := produce(idempotentBatch(pid, 0, 3, 2))
	if r0.errCode != 0 || r1.errCode != 0 || r0.base != 0 || r1.base != 3 {
		t.Fatalf("first produces: %+v %+v", r0, r1)
	}
	if r := produce(idempotentBatch(pid, 0, 3, 2)); r.errCode != 0 || r.base != 3 {
		t.Fatalf("retry before restart: %+v, want offset 3 again", r)
	}

	// Restart the partition: close everything, open from disk.
	if err := s.parts.closeAll(); err != nil {
		t.Fatal(err)
	}
	if err := s.parts.openStable(s.cfg.DataDir, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.parts.reconcile(); err != nil {
		t.Fatal(err)
	}

	if r := produce(idempotentBatch(pid, 0, 3, 2)); r.errCode != 0 || r.base != 3 {
		t.Fatalf("retry after restart: %+v, want the original offset 3", r)
	}
	if r := produce(idempotentBatch(pid, 0, 9, 1)); r.errCode != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("gap after restart: code %d, want OUT_OF_ORDER_SEQUENCE_NUMBER", r.errCode)
	}
	if r := produce(idempotentBatch(pid, 0, 5, 1)); r.errCode != 0 || r.base != 5 {
		t.Fatalf("next in sequence after restart: %+v", r)
	}
	if r := produce(idempotentBatch(pid, 1, 0, 1)); r.errCode != 0 || r.base != 6 {
		t.Fatalf("new epoch from 0: %+v", r)
	}
	if r := produce(idempotentBatch(pid, 0, 6, 1)); r.errCode != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("old epoch: code %d, want INVALID_PRODUCER_EPOCH", r.errCode)
	}
	if r := produce(idempotentBatch(7777, 0, 5, 1)); r.errCode != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("unknown producer starting at 5: code %d", r.errCode)
	}
}

// TestProduceRefusesOffsetDeltaMismatch: a batch whose last offset delta does
// not match its record count is INVALID_RECORD, and nothing is written.
func TestProduceRefusesOffsetDeltaMismatch(t *testing.T) {
	s := testShard(t)
	p := s.parts.await(t.Context(), "t", 0)
	b := batchtest.Values(1, 3, 10)
	b[23], b[24], b[25], b[26] = 0x7f, 0xff, 0xff, 0xff // lastOffsetDelta = MaxInt32
	batch.UpdateCRC(b)
	if r := p.commit(p.write(b)); r.errCode != kerr.InvalidRecord.Code {
		t.Fatalf("code %d, want INVALID_RECORD", r.errCode)
	}
	if end := p.log.EndOffset(); end != 0 {
		t.Fatalf("log end %d after a refused batch", end)
	}
}
