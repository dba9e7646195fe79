package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/cli/bench"
)

// C1 is the catch-up read of issue 4: c1Bytes of 1 KiB records are
// produced once into c1Partitions partitions, then each round a fresh
// client reads them all from the start. Two readers: "fetch" sends raw
// Fetch requests and only walks the batch headers (what the broker can
// serve), "kgo" is a franz-go consumer decoding every record (what an
// application sees; on a small machine it competes with the broker for
// the CPUs).
const (
	c1Partitions = 12
	c1Topic      = "bench-C1"
	// c1FetchMaxBytes and c1PartitionMaxBytes size each fetch: 12 x 8 MiB.
	c1FetchMaxBytes     = 96 << 20
	c1PartitionMaxBytes = 8 << 20
)

// c1Read is one catch-up read.
type c1Read struct {
	Bytes      int64   `json:"bytes"` // record batch bytes (fetch) or value bytes (kgo) read
	Records    int64   `json:"records"`
	Seconds    float64 `json:"seconds"`
	BrokerCPUs float64 `json:"broker_cpu_seconds"` // the broker's CPU time over the read
}

// GBps is 10^9 bytes per second.
func (r c1Read) GBps() float64 {
	if r.Seconds == 0 {
		return 0
	}
	return float64(r.Bytes) / r.Seconds / 1e9
}

// c1Produce fills the C1 topic with total bytes of 1 KiB records and
// returns each partition's end offset.
func c1Produce(ctx context.Context, brokers string, total int64) (map[int32]int64, *bench.Report, error) {
	c := bench.DefaultConfig()
	c.Brokers = []string{brokers}
	c.Topic = c1Topic
	c.Partitions = c1Partitions
	c.RecordSize = 1024
	c.Records = max(1, total/int64(c.RecordSize))
	c.Producers = 4
	c.MaxBufferedBytes = 4 * inflightBytes / c.Producers
	c.Linger = 5 * time.Millisecond
	rep, err := bench.Run(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		return nil, nil, err
	}
	defer cl.Close()
	offs, err := kadm.NewClient(cl).ListEndOffsets(ctx, c1Topic)
	if err != nil {
		return nil, nil, err
	}
	ends := map[int32]int64{}
	if err := offs.Error(); err != nil {
		return nil, nil, err
	}
	offs.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	return ends, rep, nil
}

// c1FetchRead reads every partition from offset 0 to ends with raw Fetch
// requests, without decoding records.
func c1FetchRead(ctx context.Context, brokers string, ends map[int32]int64) (c1Read, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		return c1Read{}, err
	}
	defer cl.Close()
	td, err := kadm.NewClient(cl).ListTopics(ctx, c1Topic)
	if err != nil {
		return c1Read{}, err
	}
	id := td[c1Topic].ID
	next := map[int32]int64{}
	for p := range ends {
		next[p] = 0
	}
	var r c1Read
	start := time.Now()
	for len(next) > 0 {
		req := kmsg.NewPtrFetchRequest()
		req.ReplicaID = -1
		req.MaxWaitMillis = 100
		req.MaxBytes = c1FetchMaxBytes
		t := kmsg.NewFetchRequestTopic()
		t.Topic, t.TopicID = c1Topic, id
		for p, off := range next {
			fp := kmsg.NewFetchRequestTopicPartition()
			fp.Partition, fp.FetchOffset, fp.PartitionMaxBytes = p, off, c1PartitionMaxBytes
			fp.CurrentLeaderEpoch, fp.LogStartOffset = -1, -1
			t.Partitions = append(t.Partitions, fp)
		}
		req.Topics = append(req.Topics, t)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return r, fmt.Errorf("fetch: %w", err)
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return r, fmt.Errorf("fetch: %w", err)
		}
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
					return r, fmt.Errorf("fetch partition %d: %w", rp.Partition, err)
				}
				off, n, recs := walkBatches(rp.RecordBatches)
				r.Bytes += n
				r.Records += recs
				if off > next[rp.Partition] {
					next[rp.Partition] = off
				}
				if next[rp.Partition] >= ends[rp.Partition] {
					delete(next, rp.Partition)
				}
			}
		}
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// walkBatches reads the v2 record batch headers in b: the offset after the
// last whole batch (0 if none), the bytes of the whole batches and the
// records they hold. A trailing partial batch (a fetch may end in one) is
// not counted.
func walkBatches(b []byte) (next, n, records int64) {
	for len(b) >= 61 {
		base := int64(binary.BigEndian.Uint64(b[0:8]))
		size := 12 + int64(int32(binary.BigEndian.Uint32(b[8:12])))
		if size < 61 || int64(len(b)) < size {
			break
		}
		lastDelta := int64(int32(binary.BigEndian.Uint32(b[23:27])))
		records += int64(int32(binary.BigEndian.Uint32(b[57:61])))
		next = base + lastDelta + 1
		n += size
		b = b[size:]
	}
	return next, n, records
}

// c1ConsumerRead reads every partition from the start to ends with a
// franz-go consumer, counting value bytes.
func c1ConsumerRead(ctx context.Context, brokers string, ends map[int32]int64) (c1Read, error) {
	parts := map[int32]kgo.Offset{}
	var want int64
	for p, e := range ends {
		parts[p] = kgo.NewOffset().At(0)
		want += e
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c1Topic: parts}),
		kgo.FetchMaxBytes(c1FetchMaxBytes), kgo.FetchMaxPartitionBytes(c1PartitionMaxBytes))
	if err != nil {
		return c1Read{}, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var r c1Read
	start := time.Now()
	for r.Records < want {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return r, fmt.Errorf("consumer read %d of %d records: %w", r.Records, want, err)
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = err })
		if ferr != nil {
			return r, fmt.Errorf("consumer: %w", ferr)
		}
		fs.EachRecord(func(rec *kgo.Record) {
			r.Records++
			r.Bytes += int64(len(rec.Value))
		})
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}
