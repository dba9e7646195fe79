package tests

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ailurus/ailurus/internal/testkit"
)

// TestE2EInternalTopicsProtected: clients cannot write to, delete, or add
// partitions to the topics the node keeps its groups and transactions in;
// each attempt gets INVALID_TOPIC_EXCEPTION and the topic is unchanged.
func TestE2EInternalTopicsProtected(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	adm := n.Admin()
	ctx := ctxT(t, time.Minute)
	for _, topic := range []string{"__consumer_offsets", "__transaction_state"} {
		var before int
		testkit.CheckFor(t, time.Minute, func() error {
			md, err := adm.Metadata(ctx, topic)
			if err == nil {
				before = len(md.Topics[topic].Partitions)
				if before == 0 {
					err = errors.New("no partitions yet")
				}
			}
			return err
		})
		cl := n.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RecordRetries(1))
		err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("x")}).FirstErr()
		if !errors.Is(err, kerr.InvalidTopicException) {
			t.Errorf("produce to %s: %v, want INVALID_TOPIC_EXCEPTION", topic, err)
		}
		dr, err := adm.DeleteTopics(ctx, topic)
		if err != nil || !errors.Is(dr[topic].Err, kerr.InvalidTopicException) {
			t.Errorf("delete %s: %v %v, want INVALID_TOPIC_EXCEPTION", topic, err, dr[topic].Err)
		}
		cr, err := adm.CreatePartitions(ctx, 1, topic)
		if err != nil || !errors.Is(cr[topic].Err, kerr.InvalidTopicException) {
			t.Errorf("add partitions to %s: %v %v, want INVALID_TOPIC_EXCEPTION", topic, err, cr[topic].Err)
		}
		md, err := adm.Metadata(ctx, topic)
		if err != nil || len(md.Topics[topic].Partitions) != before || !md.Topics[topic].IsInternal {
			t.Errorf("%s after the attempts: %v, %d partitions (was %d), internal %v", topic, err, len(md.Topics[topic].Partitions), before, md.Topics[topic].IsInternal)
		}
	}
}
