package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ailurus/ailurus/cli/bench"
	"github.com/ailurus/ailurus/internal/pace"
)

// natsMaxPending is the most unacknowledged messages one NATS publisher
// keeps, the same bound kgo's default MaxBufferedRecords puts on a Kafka
// producer.
const natsMaxPending = 10_000

// natsSubject names the stream (and its one subject) that stands for
// partition p of topic.
func natsSubject(topic string, p int) string { return fmt.Sprintf("%s-p%d", topic, p) }

// runNATS is bench.Run for NATS JetStream: each of the workload's
// partitions is a stream of its own (file storage, one replica) with one
// subject, since a JetStream stream is one ordered log as a Kafka partition
// is. Producers publish with jetstream's async publisher and wait for every
// ack (the stream has stored the message; with SyncAlways, fsynced), at most
// the same unacknowledged bytes as the Kafka producers and at most
// natsMaxPending messages. Producer i sends its n-th record to stream
// (n+i) mod partitions. No Nats-Msg-Id, so no deduplication window: the
// Kafka producers' idempotence has no exact JetStream equivalent.
func runNATS(ctx context.Context, url string, w workload, topic string, dur, warmup time.Duration) (*bench.Report, error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return nil, fmt.Errorf("nats connect: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	subjects := make([]string, w.partitions)
	for p := range w.partitions {
		subjects[p] = natsSubject(topic, p)
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
			Name: subjects[p], Subjects: []string{subjects[p]},
			Storage: jetstream.FileStorage, Replicas: 1,
		}); err != nil {
			return nil, fmt.Errorf("creating stream %s: %w", subjects[p], err)
		}
	}
	window := min(natsMaxPending, max(1, inflightBytes/w.producers/w.recordSize))
	start := time.Now()
	warmEnd := start.Add(warmup)
	end := start.Add(dur)
	var (
		acked, ackedB, ackedBAll, errs atomic.Int64
		ackedAll, lastAck              atomic.Int64
		mu                             sync.Mutex
		hist                           = hdrhistogram.New(1, 600_000_000, 3) // acks of records created after the warm-up, µs
		histAll                        = hdrhistogram.New(1, 600_000_000, 3) // every ack
		wg                             sync.WaitGroup
		firstErr                       error
		errOnce                        sync.Once
	)
	var interval time.Duration
	if w.rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(w.producers) / w.rate)
	}
	for i := range w.producers {
		conn, err := nats.Connect(url)
		if err != nil {
			return nil, fmt.Errorf("nats connect: %w", err)
		}
		defer conn.Close()
		pjs, err := jetstream.New(conn, jetstream.WithPublishAsyncMaxPending(2*window))
		if err != nil {
			return nil, err
		}
		type pending struct {
			f       jetstream.PubAckFuture
			created time.Time
			size    int
		}
		inflight := make(chan pending, window)
		wg.Add(2)
		// The acker waits for the acks in publish order; a stream acks in
		// order, so only acks of different streams can be seen late.
		go func() {
			defer wg.Done()
			for p := range inflight {
				var err error
				select {
				case <-p.f.Ok():
				case err = <-p.f.Err():
				}
				now := time.Now()
				if err != nil {
					errs.Add(1)
					continue
				}
				ackedAll.Add(1)
				ackedBAll.Add(int64(p.size))
				for {
					last := lastAck.Load()
					if now.UnixNano() <= last || lastAck.CompareAndSwap(last, now.UnixNano()) {
						break
					}
				}
				us := min(max(1, now.Sub(p.created).Microseconds()), hist.HighestTrackableValue())
				mu.Lock()
				_ = histAll.RecordValue(us)
				if !p.created.Before(warmEnd) {
					acked.Add(1)
					ackedB.Add(int64(p.size))
					_ = hist.RecordValue(us)
				}
				mu.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			defer close(inflight)
			pad := make([]byte, w.recordSize)
			for j := range pad {
				pad[j] = byte(rand.IntN(256))
			}
			for seq := 0; ctx.Err() == nil && time.Now().Before(end); seq++ {
				created := time.Now()
				if interval > 0 {
					due := start.Add(time.Duration(seq) * interval)
					pace.Until(due)
					created = due
				}
				v := make([]byte, w.recordSize)
				copy(v, pad)
				f, err := pjs.PublishAsync(subjects[(seq+i)%len(subjects)], v)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("nats publish: %w", err) })
					return
				}
				// Blocks while window messages are unacknowledged.
				inflight <- pending{f: f, created: created, size: len(v)}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	rep := &bench.Report{
		Topic: topic, RecordSize: w.recordSize, Producers: w.producers, TargetRate: w.rate,
		Records: acked.Load(), Bytes: ackedB.Load(), BytesAll: ackedBAll.Load(), Errors: errs.Load(),
	}
	from := warmEnd
	if rep.Records == 0 && ackedAll.Load() > 0 {
		// Slower than its window: every ack is of a record created during
		// the warm-up. Report the whole run rather than nothing.
		rep.WholeRun = true
		from, hist = start, histAll
		rep.Records, rep.Bytes = ackedAll.Load(), ackedBAll.Load()
	}
	if last := lastAck.Load(); last > from.UnixNano() {
		rep.Seconds = time.Duration(last - from.UnixNano()).Seconds()
	}
	if rep.Seconds > 0 {
		rep.RecordsPerSec = float64(rep.Records) / rep.Seconds
		rep.MBPerSec = float64(rep.Bytes) / rep.Seconds / 1e6
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	rep.Produce = bench.Latency{
		Count: hist.TotalCount(), P50: ms(hist.ValueAtPercentile(50)), P99: ms(hist.ValueAtPercentile(99)),
		P999: ms(hist.ValueAtPercentile(99.9)), Max: ms(hist.Max()),
	}
	return rep, nil
}
