package tests

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestE2EDeleteRecords deletes records below an offset, below the high
// watermark (-1), past the high watermark (refused) and of an unknown
// topic, on partitions of both shards, and checks the new log start
// offsets with ListOffsets, a consumer, and again after a restart.
func TestE2EDeleteRecords(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	adm := n.Admin()
	createTopic(t, n, "trim", 4, nil)
	topicShards(t, n, "trim")
	cl := manualClient(n)
	for p := int32(0); p < 4; p++ {
		produceTo(t, cl, "trim", p, 10, 20)
	}
	var os kadm.Offsets
	for p, at := range []int64{5, -1, 11, 0} {
		os.Add(kadm.Offset{Topic: "trim", Partition: int32(p), At: at})
	}
	rs, err := adm.DeleteRecords(ctxT(t, time.Minute), os)
	if err != nil {
		t.Fatalf("delete records: %v", err)
	}
	for p, w := range []struct {
		low int64
		err error
	}{{5, nil}, {10, nil}, {-1, kerr.OffsetOutOfRange}, {0, nil}} {
		r := rs["trim"][int32(p)]
		if r.LowWatermark != w.low || !errors.Is(r.Err, w.err) && (r.Err != nil || w.err != nil) {
			t.Errorf("partition %d: low watermark %d err %v, want %d %v", p, r.LowWatermark, r.Err, w.low, w.err)
		}
	}
	// An unknown topic: kadm cannot route it; sent to the broker directly,
	// the broker answers UNKNOWN_TOPIC_OR_PARTITION.
	var unknown kadm.Offsets
	unknown.Add(kadm.Offset{Topic: "nope", Partition: 0, At: 1})
	if _, err := adm.DeleteRecords(ctxT(t, time.Minute), unknown); !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Errorf("unknown topic with kadm: %v", err)
	}
	req := kmsg.NewPtrDeleteRecordsRequest()
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = "nope"
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Offset = 1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	kr, err := n.Client().Broker(int(nodeID(t, n))).Request(ctxT(t, time.Minute), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp := kr.(*kmsg.DeleteRecordsResponse); len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 ||
		resp.Topics[0].Partitions[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("unknown topic sent directly: %+v", resp.Topics)
	}

	checkStarts := func(when string) {
		t.Helper()
		starts, err := n.Admin().ListStartOffsets(ctxT(t, time.Minute), "trim")
		if err != nil {
			t.Fatal(err)
		}
		for p, want := range []int64{5, 10, 0, 0} {
			if o, _ := starts.Lookup("trim", int32(p)); o.Offset != want {
				t.Errorf("%s: partition %d starts at %d, want %d", when, p, o.Offset, want)
			}
		}
	}
	checkStarts("after delete")

	// A consumer from the start of partition 0 begins at 5.
	consumeFirst := func() int64 {
		c := n.Client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"trim": {0: kgo.NewOffset().AtStart()}}))
		ctx := ctxT(t, 30*time.Second)
		for {
			fs := c.PollFetches(ctx)
			if err := ctx.Err(); err != nil {
				t.Fatalf("consume: %v", err)
			}
			var first int64 = -1
			fs.EachRecord(func(r *kgo.Record) {
				if first < 0 {
					first = r.Offset
				}
			})
			if first >= 0 {
				return first
			}
		}
	}
	if first := consumeFirst(); first != 5 {
		t.Errorf("consumer starts at %d, want 5", first)
	}

	// Durable: the same after a restart, and appends continue.
	n = n.Restart()
	checkStarts("after restart")
	cl = manualClient(n)
	if off := produceTo(t, cl, "trim", 1, 1, 20); off != 10 {
		t.Errorf("append after delete-all: offset %d, want 10", off)
	}
	ends, err := n.Admin().ListEndOffsets(ctxT(t, time.Minute), "trim")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup("trim", 0); o.Offset != 10 {
		t.Errorf("partition 0 ends at %d, want 10", o.Offset)
	}
}
