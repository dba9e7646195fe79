package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/ailurus/ailurus/internal/pace"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Run creates the topic if missing, runs the producers (and consumers) of
// c and returns what they measured. extra are client options every client
// gets (TLS, SASL, timeouts). Cancelling ctx stops the producers early: Run
// then waits for the records already sent and reports them, marked
// Interrupted.
func Run(ctx context.Context, c Config, extra ...kgo.Opt) (*Report, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	base := append([]kgo.Opt{kgo.SeedBrokers(c.Brokers...)}, extra...)
	ends, err := prepareTopic(ctx, c, base)
	if err != nil {
		return nil, err
	}
	r := &run{c: c, base: base, seen: newSeenSet()}
	r.start = time.Now()
	r.warmupEnd = r.start.Add(c.Warmup)

	// Consumers outlive ctx so that an interrupted run still reads back what
	// was acknowledged, within the drain time.
	consCtx, stopConsumers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopConsumers()
	var cons sync.WaitGroup
	e2e := make([]*hdrhistogram.Histogram, c.Consumers)
	for i := range c.Consumers {
		e2e[i] = newHistogram()
		parts := map[int32]kgo.Offset{}
		for p, off := range ends {
			if int(p)%c.Consumers == i {
				parts[p] = kgo.NewOffset().At(off)
			}
		}
		if len(parts) == 0 {
			continue
		}
		cl, err := kgo.NewClient(append(base, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.Topic: parts}))...)
		if err != nil {
			return nil, fmt.Errorf("consumer: %w", err)
		}
		cons.Add(1)
		go func() {
			defer cons.Done()
			defer cl.Close()
			r.consume(consCtx, cl, e2e[i])
		}()
	}

	var prods sync.WaitGroup
	ack := make([]*hdrhistogram.Histogram, c.Producers)
	var prodErr error
	var prodErrOnce sync.Once
	for i := range c.Producers {
		ack[i] = newHistogram()
		cl, err := kgo.NewClient(append(base, r.producerOpts()...)...)
		if err != nil {
			return nil, fmt.Errorf("producer: %w", err)
		}
		prods.Add(1)
		go func() {
			defer prods.Done()
			defer cl.Close()
			if err := r.produce(ctx, cl, uint32(i), ack[i]); err != nil {
				prodErrOnce.Do(func() { prodErr = err })
			}
		}()
	}
	prods.Wait()
	if prodErr != nil {
		return nil, prodErr
	}
	// Consumers read until they hold every acknowledged record or the drain
	// time passes.
	deadline := time.Now().Add(c.Drain)
	for c.Consumers > 0 && r.seen.distinct() < r.ackedAll.Load() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	stopConsumers()
	cons.Wait()
	rep := r.report(ack, e2e)
	rep.Interrupted = ctx.Err() != nil
	return rep, nil
}

// run is the shared state of one Run: counters are updated from the
// producers' promise callbacks and the consumer goroutines.
type run struct {
	c         Config
	base      []kgo.Opt
	start     time.Time
	warmupEnd time.Time
	claimed   atomic.Int64 // records handed out in --records mode
	seen      *seenSet

	ackedAll  atomic.Int64 // successful acks, warm-up included
	acked     atomic.Int64 // successful acks of records created after the warm-up
	ackedB    atomic.Int64
	ackedBAll atomic.Int64 // value bytes of every successful ack, warm-up included
	lastAckNs atomic.Int64 // Unix ns of the latest ack
	errs      atomic.Int64
	dups      atomic.Int64
}

// prepareTopic creates the topic when missing and returns each partition's
// end offset once every partition has a leader.
func prepareTopic(ctx context.Context, c Config, base []kgo.Opt) (map[int32]int64, error) {
	cl, err := kgo.NewClient(base...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	resp, err := adm.CreateTopic(ctx, int32(c.Partitions), -1, nil, c.Topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return nil, fmt.Errorf("creating topic %s: %w", c.Topic, err)
	}
	if resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
		return nil, fmt.Errorf("creating topic %s: %w", c.Topic, resp.Err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		offs, err := adm.ListEndOffsets(ctx, c.Topic)
		if err == nil {
			ends := map[int32]int64{}
			ok := true
			offs.Each(func(o kadm.ListedOffset) {
				if o.Err != nil {
					ok = false
				}
				ends[o.Partition] = o.Offset
			})
			if ok && len(ends) > 0 {
				return ends, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("topic %s: partitions not ready after 30s (last error: %v)", c.Topic, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (r *run) producerOpts() []kgo.Opt {
	c := r.c
	opts := []kgo.Opt{
		kgo.DefaultProduceTopic(c.Topic),
		kgo.ProducerLinger(c.Linger),
		kgo.RecordDeliveryTimeout(60 * time.Second),
	}
	switch c.Acks {
	case "all":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
	}
	if c.MaxBufferedBytes > 0 {
		opts = append(opts, kgo.MaxBufferedBytes(c.MaxBufferedBytes))
	}
	if !c.Idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	codec := map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	}[c.Compression]
	return append(opts, kgo.ProducerBatchCompression(codec))
}

// produce sends records until the count or the deadline. Closed loop: as
// fast as the client's buffer (MaxBufferedRecords) lets it. Open loop: record
// n of this producer is due at start + n/rate, and its latency counts from
// then, however late it is sent.
func (r *run) produce(ctx context.Context, cl *kgo.Client, id uint32, hist *hdrhistogram.Histogram) error {
	c := r.c
	var mu sync.Mutex // guards hist: promises may run on several goroutines
	pad := make([]byte, c.RecordSize)
	for i := range pad {
		pad[i] = byte(rand.IntN(256))
	}
	var interval time.Duration
	if c.Rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(c.Producers) / c.Rate)
	}
	end := r.start.Add(c.Duration)
	warmNs := r.warmupEnd.UnixNano()
	for seq := uint64(0); ctx.Err() == nil; seq++ {
		if c.Records > 0 {
			if r.claimed.Add(1) > c.Records {
				break
			}
		} else if !time.Now().Before(end) {
			break
		}
		created := time.Now()
		if interval > 0 {
			due := r.start.Add(time.Duration(seq) * interval)
			pace.Until(due)
			created = due
		}
		v := make([]byte, c.RecordSize)
		copy(v[HeaderSize:], pad[HeaderSize:])
		putHeader(v, id, seq, created.UnixNano())
		rec := &kgo.Record{Value: v, Timestamp: created}
		cl.Produce(context.WithoutCancel(ctx), rec, func(rec *kgo.Record, err error) {
			now := time.Now()
			if err != nil {
				r.errs.Add(1)
				return
			}
			r.ackedAll.Add(1)
			r.ackedBAll.Add(int64(len(rec.Value)))
			for {
				last := r.lastAckNs.Load()
				if now.UnixNano() <= last || r.lastAckNs.CompareAndSwap(last, now.UnixNano()) {
					break
				}
			}
			if created.UnixNano() < warmNs {
				return
			}
			r.acked.Add(1)
			r.ackedB.Add(int64(len(rec.Value)))
			mu.Lock()
			recordLatency(hist, now.Sub(created))
			mu.Unlock()
		})
	}
	return cl.Flush(context.WithoutCancel(ctx))
}

// consume reads until ctx ends, counting duplicates and recording the
// end-to-end latency of post-warm-up records into hist.
func (r *run) consume(ctx context.Context, cl *kgo.Client, hist *hdrhistogram.Histogram) {
	warmNs := r.warmupEnd.UnixNano()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		now := time.Now().UnixNano()
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.Canceled) {
				r.errs.Add(1)
			}
		})
		fs.EachRecord(func(rec *kgo.Record) {
			id, seq, created, ok := parseHeader(rec.Value)
			if !ok {
				return // not ours
			}
			if r.seen.add(id, seq) {
				r.dups.Add(1)
				return
			}
			if created >= warmNs {
				recordLatency(hist, time.Duration(now-created))
			}
		})
	}
}

func (r *run) report(ack, e2e []*hdrhistogram.Histogram) *Report {
	c := r.c
	rep := &Report{
		Topic: c.Topic, RecordSize: c.RecordSize, Producers: c.Producers, Consumers: c.Consumers,
		TargetRate: c.Rate, Records: r.acked.Load(), Bytes: r.ackedB.Load(), BytesAll: r.ackedBAll.Load(),
		Errors: r.errs.Load(), Duplicates: r.dups.Load(),
	}
	if last := r.lastAckNs.Load(); last > r.warmupEnd.UnixNano() {
		rep.Seconds = time.Duration(last - r.warmupEnd.UnixNano()).Seconds()
	}
	if rep.Seconds > 0 {
		rep.RecordsPerSec = float64(rep.Records) / rep.Seconds
		rep.MBPerSec = float64(rep.Bytes) / rep.Seconds / 1e6
	}
	rep.Produce = latencyOf(merge(ack))
	if c.Consumers > 0 {
		l := latencyOf(merge(e2e))
		rep.EndToEnd = &l
		rep.Consumed = r.seen.distinct()
		rep.Missing = max(0, r.ackedAll.Load()-rep.Consumed)
	}
	return rep
}

func merge(hs []*hdrhistogram.Histogram) *hdrhistogram.Histogram {
	out := newHistogram()
	for _, h := range hs {
		if h != nil {
			out.Merge(h)
		}
	}
	return out
}
