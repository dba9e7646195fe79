package tests

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestE2EFetchLongPollAcrossShards: a consumer of a topic with a partition
// on each shard long-polls with a 20 s MaxWait; a record produced to either
// partition while it waits comes back promptly, not at the end of MaxWait,
// whichever shard its connection landed on (one part of its fetch is
// forwarded to the other shard).
func TestE2EFetchLongPollAcrossShards(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	ctx := ctxT(t, 2*time.Minute)
	if _, err := n.Admin().CreateTopic(ctx, 2, 1, nil, "poll"); err != nil {
		t.Fatal(err)
	}
	c := n.Client(kgo.ConsumeTopics("poll"), kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), kgo.FetchMaxWait(20*time.Second))
	p := n.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	// Let the consumer reach the end and start waiting.
	c.PollRecords(ctxT(t, 3*time.Second), 1)
	for _, part := range []int32{0, 1, 1, 0} {
		done := make(chan time.Time, 1)
		go func() {
			time.Sleep(300 * time.Millisecond)
			if err := p.ProduceSync(ctx, &kgo.Record{Topic: "poll", Partition: part, Value: []byte("x")}).FirstErr(); err != nil {
				t.Error(err)
			}
			done <- time.Now()
		}()
		var recs []*kgo.Record
		for len(recs) == 0 && ctx.Err() == nil { // a poll may return empty
			fs := c.PollRecords(ctx, 1)
			if errs := fs.Errors(); len(errs) > 0 {
				t.Fatalf("partition %d: %v", part, errs)
			}
			recs = fs.Records()
		}
		got := time.Now()
		if len(recs) != 1 || recs[0].Partition != part {
			t.Fatalf("partition %d: got %d records", part, len(recs))
		}
		sent := <-done
		// MaxWait is 20 s: anything close to it means the poll did not wake.
		if lag := got.Sub(sent); lag > 8*time.Second {
			t.Fatalf("partition %d: record arrived %v after it was produced (MaxWait 20s)", part, lag)
		}
	}
}
