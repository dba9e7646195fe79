package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
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

// c1FetchVersion is the Fetch version of the raw reader: the newest that
// names topics (v13 names them by ID) and is not flexible, so every Kafka
// broker and kfake serve it with plain headers.
const c1FetchVersion = 11

// c1FetchRead reads every partition from offset 0 to ends with raw Fetch
// requests on one TCP connection, without decoding records: it measures
// what the broker serves, not a client library. Responses are read as a
// stream through one small buffer that stays in the CPU's cache, walking
// only the batch headers (readFetchStream). Reading each whole response
// into memory first, as franz-go does, costs the reader more CPU than the
// broker spends serving it on this machine (a fresh buffer, zeroed by the
// kernel, the size of every response; or, reused, one that no cache
// holds).
func c1FetchRead(ctx context.Context, brokers string, ends map[int32]int64) (c1Read, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", brokers)
	if err != nil {
		return c1Read{}, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	next := map[int32]int64{}
	for p := range ends {
		next[p] = 0
	}
	f := kmsg.NewRequestFormatter(kmsg.FormatterClientID("benchsuite-c1"))
	br := bufio.NewReaderSize(conn, 256<<10)
	var out []byte
	var r c1Read
	start := time.Now()
	for corr := int32(0); len(next) > 0; corr++ {
		req := kmsg.NewPtrFetchRequest()
		req.SetVersion(c1FetchVersion)
		req.ReplicaID = -1
		req.MaxWaitMillis = 100
		req.MaxBytes = c1FetchMaxBytes
		t := kmsg.NewFetchRequestTopic()
		t.Topic = c1Topic
		for p, off := range next {
			fp := kmsg.NewFetchRequestTopicPartition()
			fp.Partition, fp.FetchOffset, fp.PartitionMaxBytes = p, off, c1PartitionMaxBytes
			fp.CurrentLeaderEpoch, fp.LogStartOffset = -1, -1
			t.Partitions = append(t.Partitions, fp)
		}
		req.Topics = append(req.Topics, t)
		out = f.AppendRequest(out[:0], req, corr)
		if _, err := conn.Write(out); err != nil {
			return r, fmt.Errorf("fetch: %w", err)
		}
		err := readFetchStream(br, corr, func(p int32, code int16, off, n, recs int64) error {
			if err := kerr.ErrorForCode(code); err != nil {
				return fmt.Errorf("partition %d: %w", p, err)
			}
			r.Bytes += n
			r.Records += recs
			if off > next[p] {
				next[p] = off
			}
			if next[p] >= ends[p] {
				delete(next, p)
			}
			return nil
		})
		if err != nil {
			return r, fmt.Errorf("fetch: %w", err)
		}
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// fetchStream reads a response frame in order, never past its end.
type fetchStream struct {
	br   *bufio.Reader
	left int64 // bytes of the frame not read yet
	err  error
}

func (s *fetchStream) bytes(n int) []byte {
	if s.err != nil {
		return nil
	}
	if int64(n) > s.left {
		s.err = io.ErrUnexpectedEOF
		return nil
	}
	b, err := s.br.Peek(n)
	if err != nil {
		s.err = err
		return nil
	}
	s.br.Discard(n)
	s.left -= int64(n)
	return b
}

func (s *fetchStream) skip(n int64) {
	if s.err != nil {
		return
	}
	if n < 0 || n > s.left {
		s.err = io.ErrUnexpectedEOF
		return
	}
	if _, err := s.br.Discard(int(n)); err != nil {
		s.err = err
	}
	s.left -= n
}

func (s *fetchStream) i16() int16 {
	if b := s.bytes(2); b != nil {
		return int16(binary.BigEndian.Uint16(b))
	}
	return 0
}

func (s *fetchStream) i32() int32 {
	if b := s.bytes(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

// readFetchStream reads one Fetch v11 response frame (correlation id corr)
// from br and calls part for every partition with its error code and what
// walkBatches says of its records: the offset after the last whole batch,
// their bytes and records. Only batch headers are looked at.
func readFetchStream(br *bufio.Reader, corr int32, part func(p int32, code int16, next, n, recs int64) error) error {
	s := &fetchStream{br: br, left: 8}
	size := int64(s.i32())
	if got := s.i32(); s.err == nil && got != corr {
		return fmt.Errorf("correlation id %d, want %d", got, corr)
	}
	if s.err != nil {
		return s.err
	}
	s.left = size - 4
	s.skip(4) // throttle
	if code := s.i16(); code != 0 {
		return kerr.ErrorForCode(code)
	}
	s.skip(4) // session id
	for topics := s.i32(); topics > 0 && s.err == nil; topics-- {
		s.skip(int64(s.i16())) // name
		for parts := s.i32(); parts > 0 && s.err == nil; parts-- {
			p := s.i32()
			code := s.i16()
			s.skip(24) // high watermark, last stable offset, log start offset
			if aborted := s.i32(); aborted > 0 {
				s.skip(16 * int64(aborted))
			}
			s.skip(4) // preferred read replica
			recs := int64(s.i32())
			var next, n, count int64
			for recs >= batchHeaderLen && s.err == nil {
				hdr := s.bytes(batchHeaderLen)
				if hdr == nil {
					break
				}
				size, bnext, bcount := batchHeader(hdr)
				recs -= batchHeaderLen
				if size < batchHeaderLen || size-batchHeaderLen > recs {
					break // a partial batch ends the records: not counted
				}
				s.skip(size - batchHeaderLen)
				recs -= size - batchHeaderLen
				next, n, count = bnext, n+size, count+bcount
			}
			if recs > 0 {
				s.skip(recs)
			}
			if s.err != nil {
				return s.err
			}
			if err := part(p, code, next, n, count); err != nil {
				return err
			}
		}
	}
	if s.err == nil && s.left != 0 {
		return fmt.Errorf("%d bytes left in the response", s.left)
	}
	return s.err
}

// batchHeaderLen is the length of a v2 record batch header.
const batchHeaderLen = 61

// batchHeader reads a v2 record batch header: the batch's whole size, the
// offset after its last record and its record count.
func batchHeader(h []byte) (size, next, records int64) {
	base := int64(binary.BigEndian.Uint64(h[0:8]))
	size = 12 + int64(int32(binary.BigEndian.Uint32(h[8:12])))
	lastDelta := int64(int32(binary.BigEndian.Uint32(h[23:27])))
	return size, base + lastDelta + 1, int64(int32(binary.BigEndian.Uint32(h[57:61])))
}

// walkBatches reads the v2 record batch headers in b: the offset after the
// last whole batch (0 if none), the bytes of the whole batches and the
// records they hold. A trailing partial batch (a fetch may end in one) is
// not counted.
func walkBatches(b []byte) (next, n, records int64) {
	for len(b) >= batchHeaderLen {
		size, bnext, recs := batchHeader(b)
		if size < batchHeaderLen || int64(len(b)) < size {
			break
		}
		next, n, records = bnext, n+size, records+recs
		b = b[size:]
	}
	return next, n, records
}

// c1ConsumerRead reads every partition from the start to ends with a
// franz-go consumer at its default fetch sizes (it allocates a buffer the
// size of every response: larger fetches read slower here), counting value
// bytes.
func c1ConsumerRead(ctx context.Context, brokers string, ends map[int32]int64) (c1Read, error) {
	parts := map[int32]kgo.Offset{}
	var want int64
	for p, e := range ends {
		parts[p] = kgo.NewOffset().At(0)
		want += e
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c1Topic: parts}),
	)
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
