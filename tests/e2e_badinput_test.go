package tests

import (
	be "encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// closedByServer sends raw bytes and reports whether the node closed the
// connection (read EOF/reset) within the timeout.
func closedByServer(t *testing.T, addr string, payload []byte) bool {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(payload)
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err = io.ReadAll(c)
	return err == nil // ReadAll returns nil at EOF: the server closed
}

func frame(key, version int16, body []byte) []byte {
	b := be.BigEndian.AppendUint32(nil, uint32(10+len(body)))
	b = be.BigEndian.AppendUint16(b, uint16(key))
	b = be.BigEndian.AppendUint16(b, uint16(version))
	b = be.BigEndian.AppendUint32(b, 1)
	b = be.BigEndian.AppendUint16(b, 0xffff) // null client id
	return append(b, body...)
}

func TestE2EBadInput(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "ailurus.yaml")
	os.WriteFile(cfg, []byte("cluster:\n  kafka_request_max_bytes: 1048576\n"), 0o644)
	n := RunNode(t, NodeOptions{Shards: 2, Args: []string{"--config", cfg}})

	t.Run("connection-level", func(t *testing.T) {
		cases := map[string][]byte{
			"garbage":            []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
			"unknown api key":    frame(999, 0, nil),
			"unsupported fetch":  frame(int16(kmsg.Fetch), 99, nil),
			"truncated body":     frame(int16(kmsg.Metadata), 4, []byte{0, 0, 0, 5, 0}),
			"tiny frame":         {0, 0, 0, 2, 1, 2},
			"negative size":      {0xff, 0xff, 0xff, 0xff},
			"over request limit": append(be.BigEndian.AppendUint32(nil, 2<<20), make([]byte, 64)...),
		}
		for name, payload := range cases {
			if !closedByServer(t, n.Kafka, payload) {
				t.Errorf("%s: connection not closed", name)
			}
		}
		// A frame announced but never completed: the node must not hang
		// the shard; the client gives up and the node still serves.
		c, err := net.Dial("tcp", n.Kafka)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(be.BigEndian.AppendUint32(nil, 100))
		c.Write([]byte{0, 18, 0, 0})
		c.Close()
	})

	cl := n.Client()
	ctx := ctxT(t, time.Minute)
	t.Run("api-level", func(t *testing.T) {
		long := strings.Repeat("x", 250)
		for name, c := range map[string]struct {
			topic      string
			partitions int32
			want       *kerr.Error
		}{
			"slash in name":     {"bad/name", 1, kerr.InvalidTopicException},
			"dot dot":           {"..", 1, kerr.InvalidTopicException},
			"250 chars":         {long, 1, kerr.InvalidTopicException},
			"empty name":        {"", 1, kerr.InvalidTopicException},
			"zero partitions":   {"zero", 0, kerr.InvalidPartitions},
			"negative (not -1)": {"negative", -5, kerr.InvalidPartitions},
			"huge partitions":   {"huge", 1 << 30, kerr.InvalidPartitions},
		} {
			req := kmsg.NewPtrCreateTopicsRequest()
			rt := kmsg.NewCreateTopicsRequestTopic()
			rt.Topic, rt.NumPartitions, rt.ReplicationFactor = c.topic, c.partitions, 1
			req.Topics = append(req.Topics, rt)
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := kerr.ErrorForCode(resp.Topics[0].ErrorCode); got != c.want {
				t.Errorf("%s: got %v, want %v", name, got, c.want)
			}
		}
		// Topic configs are validated at creation, not only by AlterConfigs.
		for _, kv := range [][2]string{{"segment.bytes", "abc"}, {"segment.bytes", "-5"}, {"no.such.config", "1"}, {"cleanup.policy", "sometimes"}} {
			v := kv[1]
			res, err := n.Admin().CreateTopic(ctx, 1, 1, map[string]*string{kv[0]: &v}, "bad-config")
			if err == nil {
				err = res.Err
			}
			if !errors.Is(err, kerr.InvalidConfig) {
				t.Errorf("create with %s=%s: %v, want INVALID_CONFIG", kv[0], kv[1], err)
			}
		}
		if _, err := n.Admin().CreateTopic(ctx, 2, 1, nil, "bad-input"); err != nil {
			t.Fatal(err)
		}
		// Produce to a partition that does not exist.
		rec := &kgo.Record{Topic: "bad-input", Partition: 7, Value: []byte("x")}
		pc := n.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RecordRetries(1), kgo.ProduceRequestTimeout(5*time.Second))
		if err := pc.ProduceSync(ctx, rec).FirstErr(); err == nil {
			t.Error("produce to partition 7 of a 2-partition topic succeeded")
		}
		// A batch whose CRC is wrong: CORRUPT_MESSAGE, nothing stored.
		preq := kmsg.NewPtrProduceRequest()
		preq.Acks = -1
		preq.TimeoutMillis = 5000
		pt := kmsg.NewProduceRequestTopic()
		pt.Topic = "bad-input"
		pp := kmsg.NewProduceRequestTopicPartition()
		pp.Records = corruptBatch()
		pt.Partitions = append(pt.Partitions, pp)
		preq.Topics = append(preq.Topics, pt)
		presp, err := preq.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		if code := presp.Topics[0].Partitions[0].ErrorCode; code != kerr.CorruptMessage.Code {
			t.Errorf("corrupt batch: code %d, want CORRUPT_MESSAGE", code)
		}
		ends, err := n.Admin().ListEndOffsets(ctx, "bad-input")
		if err != nil {
			t.Fatal(err)
		}
		ends.Each(func(o kadm.ListedOffset) {
			if o.Offset != 0 {
				t.Errorf("partition %d has %d records after bad produces", o.Partition, o.Offset)
			}
		})
	})

	// The node survived all of it: it serves, and no shard restarted.
	if err := n.Client(kgo.AllowAutoTopicCreation()).ProduceSync(ctx, &kgo.Record{Topic: "after-bad-input", Value: []byte("ok")}).FirstErr(); err != nil {
		t.Fatalf("produce after bad input: %v", err)
	}
	if strings.Contains(n.Logs(), "child exited") || strings.Contains(n.Logs(), "panic") {
		t.Fatalf("a shard died on bad input:\n%s", tail(n.Logs(), 60))
	}
}

// corruptBatch is a valid one-record batch with one payload byte flipped.
func corruptBatch() []byte {
	rec := kmsg.Record{Value: []byte("hello")}
	recs := rec.AppendTo(nil)
	b := kmsg.RecordBatch{Magic: 2, PartitionLeaderEpoch: -1, ProducerID: -1, FirstSequence: -1, NumRecords: 1, Records: recs}
	out := b.AppendTo(nil)
	be.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	out[len(out)-1] ^= 0xff // CRC (zero here) cannot match
	return out
}
