// Package batchtest builds Kafka v2 record batches for tests and benchmarks,
// encoded by franz-go's kmsg exactly as a client would send them. Unstable: for
// tests only.
package batchtest

import (
	"hash/crc32"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Record is one record to put in a batch.
type Record struct {
	Key     []byte // nil for no key
	Value   []byte // nil for a tombstone
	Headers []kmsg.Header
	TsDelta int64 // ms after the batch's first timestamp
}

// Options shape a batch. Zero values give an uncompressed, non-idempotent batch.
type Options struct {
	FirstTimestamp int64 // ms
	ProducerID     int64 // 0 is taken as -1 (none)
	ProducerEpoch  int16
	BaseSequence   int32
	Attributes     int16
}

// Build encodes records as one batch with base offset 0 and epoch -1, as a
// producer sends it. The CRC is set.
func Build(opt Options, recs ...Record) []byte {
	var body []byte
	var maxDelta int64
	for i, r := range recs {
		hs := r.Headers
		kr := kmsg.Record{
			TimestampDelta64: r.TsDelta,
			OffsetDelta:      int32(i),
			Key:              r.Key,
			Value:            r.Value,
			Headers:          hs,
		}
		// kmsg writes Length as given: size the record, then write it.
		kr.Length = int32(len(kr.AppendTo(nil)) - 1)
		body = kr.AppendTo(body)
		if r.TsDelta > maxDelta {
			maxDelta = r.TsDelta
		}
	}
	pid, seq := opt.ProducerID, opt.BaseSequence
	if pid == 0 {
		pid, seq = -1, -1
	}
	b := kmsg.RecordBatch{
		FirstOffset:          0,
		PartitionLeaderEpoch: -1,
		Magic:                2,
		Attributes:           opt.Attributes,
		LastOffsetDelta:      int32(len(recs) - 1),
		FirstTimestamp:       opt.FirstTimestamp,
		MaxTimestamp:         opt.FirstTimestamp + maxDelta,
		ProducerID:           pid,
		ProducerEpoch:        opt.ProducerEpoch,
		FirstSequence:        seq,
		NumRecords:           int32(len(recs)),
		Records:              body,
	}
	out := b.AppendTo(nil)
	// kmsg writes the Length field as given: fill it in, then the CRC.
	n := uint32(len(out) - 12)
	out[8], out[9], out[10], out[11] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	putCRC(out)
	return out
}

// Values builds a batch of n records whose values are size bytes each, keyed
// "k<i>", with timestamps ts, ts+1, ...
func Values(ts int64, n, size int) []byte {
	recs := make([]Record, n)
	for i := range recs {
		v := make([]byte, size)
		for j := range v {
			v[j] = byte(i + j)
		}
		recs[i] = Record{Key: []byte{'k', byte('0' + i%10)}, Value: v, TsDelta: int64(i)}
	}
	return Build(Options{FirstTimestamp: ts}, recs...)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func putCRC(b []byte) {
	c := crc32.Checksum(b[21:], castagnoli)
	b[17], b[18], b[19], b[20] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
}
