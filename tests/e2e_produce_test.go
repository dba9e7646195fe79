package tests

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// record identifies what a test produced, for comparison after reading.
type sent struct {
	key, value []byte
	headers    []kgo.RecordHeader
	ts         time.Time
	partition  int32
	offset     int64
}

func makeRecord(topic string, i int) *kgo.Record {
	return &kgo.Record{
		Topic:     topic,
		Key:       []byte(fmt.Sprintf("key-%06d", i)),
		Value:     bytes.Repeat([]byte{byte(i)}, 50+i%200),
		Headers:   []kgo.RecordHeader{{Key: "i", Value: []byte(fmt.Sprint(i))}, {Key: "h2", Value: nil}},
		Timestamp: time.UnixMilli(1_700_000_000_000 + int64(i)),
	}
}

// produceAll produces n records (idempotent, acks=all) and returns what was
// acknowledged, keyed by partition/offset.
func produceAll(t *testing.T, cl *kgo.Client, topic string, n int) map[string]sent {
	t.Helper()
	var mu sync.Mutex
	acked := make(map[string]sent, n)
	var wg sync.WaitGroup
	ctx := ctxT(t, 5*time.Minute)
	for i := 0; i < n; i++ {
		wg.Add(1)
		cl.Produce(ctx, makeRecord(topic, i), func(r *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				t.Errorf("produce: %v", err)
				return
			}
			mu.Lock()
			acked[fmt.Sprintf("%d/%d", r.Partition, r.Offset)] = sent{r.Key, r.Value, r.Headers, r.Timestamp, r.Partition, r.Offset}
			mu.Unlock()
		})
	}
	wg.Wait()
	return acked
}

// consumeAll reads every record of topic from the start until want records
// arrived and checks each against what was acknowledged.
func consumeAll(t *testing.T, n *Node, topic string, acked map[string]sent) {
	t.Helper()
	cl := n.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond))
	ctx := ctxT(t, 3*time.Minute)
	seen := 0
	lastOff := map[int32]int64{}
	for seen < len(acked) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records before timeout", seen, len(acked))
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			k := fmt.Sprintf("%d/%d", r.Partition, r.Offset)
			want, ok := acked[k]
			if !ok {
				t.Fatalf("record at %s was never acknowledged", k)
			}
			if !bytes.Equal(r.Key, want.key) || !bytes.Equal(r.Value, want.value) || !r.Timestamp.Equal(want.ts) || !headersEqual(r.Headers, want.headers) {
				t.Fatalf("record at %s differs: key %q vs %q", k, r.Key, want.key)
			}
			if last, ok := lastOff[r.Partition]; ok && r.Offset != last+1 {
				t.Fatalf("partition %d: offset %d after %d", r.Partition, r.Offset, last)
			}
			lastOff[r.Partition] = r.Offset
			seen++
		})
	}
}

func headersEqual(a, b []kgo.RecordHeader) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

func TestE2EProduceConsumeRestart(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	adm := n.Admin()
	ctx := ctxT(t, time.Minute)
	res, err := adm.CreateTopic(ctx, 12, 1, nil, "events")
	if err != nil || res.Err != nil {
		t.Fatalf("create topic: %v %v", err, res.Err)
	}
	md, err := adm.Metadata(ctx, "events")
	if err != nil || len(md.Topics["events"].Partitions) != 12 || md.Topics["events"].ID == [16]byte{} {
		t.Fatalf("metadata: %v %+v", err, md.Topics["events"])
	}
	cl := n.Client(kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(time.Millisecond), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	const total = 100_000
	acked := produceAll(t, cl, "events", total)
	if len(acked) != total {
		t.Fatalf("%d of %d acknowledged", len(acked), total)
	}
	consumeAll(t, n, "events", acked)

	n = n.Restart()
	consumeAll(t, n, "events", acked)
	// The end offsets survive the restart too.
	ends, err := n.Admin().ListEndOffsets(ctxT(t, time.Minute), "events")
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	ends.Each(func(o kadm.ListedOffset) { sum += o.Offset })
	if sum != total {
		t.Fatalf("end offsets add up to %d, want %d", sum, total)
	}
}
