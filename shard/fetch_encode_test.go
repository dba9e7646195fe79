package shard

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/batch/batchtest"
	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/internal/storage"
)

// TestFetchPartsIdentical encodes Fetch responses as parts (records left in
// the log files) and with kmsg (records copied in) and checks the frames
// are byte-identical, in memory, over TCP (sendfile) and over a pipe (the
// copying fallback).
func TestFetchPartsIdentical(t *testing.T) {
	opts := storage.DefaultOptions()
	opts.SegmentBytes = 4 << 10 // reads span segments: several chunks
	l, err := storage.Open(t.TempDir(), opts, storage.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 20 {
		if _, err := l.Append(0, batchtest.Values(int64(i), 5, 200)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	read := func(off, max int64) *storage.Slice {
		sl := new(storage.Slice)
		if err := l.Read(off, 1<<62, max, sl); err != nil {
			t.Fatal(err)
		}
		if sl.Size == 0 {
			t.Fatal("empty read")
		}
		return sl
	}
	for _, v := range []int16{4, 5, 7, 11, 12, 13} {
		resp := kmsg.NewPtrFetchResponse()
		resp.Version = v
		resp.ThrottleMillis, resp.ErrorCode, resp.SessionID = 7, 0, 0
		part := func(p int32, mod func(*kmsg.FetchResponseTopicPartition)) kmsg.FetchResponseTopicPartition {
			rp := kmsg.NewFetchResponseTopicPartition()
			rp.Partition, rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = p, 100, 99, 3
			rp.RecordBatches = []byte{}
			if mod != nil {
				mod(&rp)
			}
			return rp
		}
		ta := kmsg.NewFetchResponseTopic()
		ta.Topic, ta.TopicID = "alpha", [16]byte{1, 2, 3}
		ta.Partitions = []kmsg.FetchResponseTopicPartition{
			part(0, nil), // records from the log (several chunks)
			part(1, nil), // empty: RecordBatches empty, not null
			part(2, func(rp *kmsg.FetchResponseTopicPartition) {
				rp.ErrorCode = kerr.OffsetOutOfRange.Code
				rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = -1, -1, -1
			}),
		}
		tb := kmsg.NewFetchResponseTopic()
		tb.Topic, tb.TopicID = "beta-topic", [16]byte{9: 9}
		tb.Partitions = []kmsg.FetchResponseTopicPartition{
			part(5, func(rp *kmsg.FetchResponseTopicPartition) {
				rp.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
			}),
			part(6, func(rp *kmsg.FetchResponseTopicPartition) { // records from the log, aborted txns
				a := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
				a.ProducerID, a.FirstOffset = 42, 17
				rp.AbortedTransactions = append(rp.AbortedTransactions, a, a)
				rp.PreferredReadReplica = 3
			}),
			part(7, func(rp *kmsg.FetchResponseTopicPartition) { // bytes in memory (another shard's)
				rp.RecordBatches = batchtest.Values(1, 2, 30)
			}),
		}
		tc := kmsg.NewFetchResponseTopic() // a topic with no partitions
		tc.Topic = "gamma"
		resp.Topics = []kmsg.FetchResponseTopic{ta, tb, tc}
		z := &zcFetch{FetchResponse: resp, slices: [][]*storage.Slice{
			{read(0, 10<<10), nil, nil},
			{nil, read(37, 1), nil},
			{},
		}}
		if _, ok := z.slices[0][0].Chunks[0].File().(storage.OSFile); !ok {
			t.Fatal("segment file is not an OSFile: sendfile path not exercised")
		}
		if len(z.slices[0][0].Chunks) < 2 {
			t.Fatalf("want a multi-chunk slice, got %d chunks", len(z.slices[0][0].Chunks))
		}
		req := kmsg.NewPtrFetchRequest()
		req.SetVersion(v)
		h := kwire.Header{Key: int16(kmsg.Fetch), Version: v, Correlation: 1234, Flexible: req.IsFlexible()}
		pf := encodeFetchParts(h, z)
		if pf == nil {
			t.Fatalf("v%d: not encodable", v)
		}
		got, err := pf.bytes()
		if err != nil {
			t.Fatal(err)
		}
		overTCP := sendOver(t, pf, true)
		overPipe := sendOver(t, pf, false)
		if err := z.fill(); err != nil {
			t.Fatal(err)
		}
		want := kwire.AppendResponse(nil, h, resp)
		if !bytes.Equal(got, want) {
			t.Fatalf("v%d: parts encoding differs from kmsg\n got %x\nwant %x", v, got, want)
		}
		if !bytes.Equal(overTCP, want) || !bytes.Equal(overPipe, want) {
			t.Fatalf("v%d: sent frame differs (tcp %d bytes, pipe %d bytes, want %d)", v, len(overTCP), len(overPipe), len(want))
		}
		// And it decodes, with the records in place.
		_, back, err := kwire.ParseResponse(req, want[4:])
		if err != nil {
			t.Fatal(err)
		}
		fr := back.(*kmsg.FetchResponse)
		if n := len(fr.Topics[0].Partitions[0].RecordBatches); n == 0 || fr.Topics[0].Partitions[1].RecordBatches == nil {
			t.Fatalf("v%d: decoded records %d bytes, empty partition null=%v", v, n, fr.Topics[0].Partitions[1].RecordBatches == nil)
		}
	}

	// Tagged fields it does not mirror: left to kmsg.
	resp := kmsg.NewPtrFetchResponse()
	resp.Version = 12
	rt := kmsg.NewFetchResponseTopic()
	rp := kmsg.NewFetchResponseTopicPartition()
	rp.CurrentLeader.LeaderID = 1
	rt.Partitions = append(rt.Partitions, rp)
	resp.Topics = append(resp.Topics, rt)
	if encodeFetchParts(kwire.Header{Key: int16(kmsg.Fetch), Version: 12, Flexible: true}, &zcFetch{FetchResponse: resp}) != nil {
		t.Fatal("encoded a response with a tagged field")
	}
}

// sendOver writes pf through writeParts on a loopback TCP connection
// (sendfile) or a pipe (copying) and returns what the peer read.
func sendOver(t *testing.T, pf *partsFrame, tcp bool) []byte {
	t.Helper()
	var a, b net.Conn
	if tcp {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		acc := make(chan net.Conn, 1)
		go func() {
			c, _ := ln.Accept()
			acc <- c
		}()
		if a, err = net.Dial("tcp", ln.Addr().String()); err != nil {
			t.Fatal(err)
		}
		if b = <-acc; b == nil {
			t.Fatal("accept failed")
		}
	} else {
		a, b = net.Pipe()
	}
	defer b.Close()
	errc := make(chan error, 1)
	go func() {
		w := bufio.NewWriterSize(a, 1<<10)
		err := writeParts(w, a, pf)
		if err == nil {
			err = w.Flush()
		}
		a.Close()
		errc <- err
	}()
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return got
}
