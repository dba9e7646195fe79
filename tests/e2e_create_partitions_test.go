package tests

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/ailurus/ailurus/internal/testkit"
)

// TestE2ECreatePartitions grows a topic with kadm and sarama, checks that the
// new partitions take data on both shards, and that shrinking, keeping the
// count, asking for too many or naming an unknown topic are refused.
func TestE2ECreatePartitions(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	adm := n.Admin()
	createTopic(t, n, "grow", 1, nil)
	partitions := func() int {
		md, err := adm.Metadata(ctxT(t, time.Minute), "grow")
		if err != nil {
			t.Fatal(err)
		}
		return len(md.Topics["grow"].Partitions)
	}

	// Validate only: nothing changes.
	rs, err := adm.ValidateUpdatePartitions(ctxT(t, time.Minute), 4, "grow")
	if err != nil || rs.Error() != nil {
		t.Fatalf("validate: %v %v", err, rs.Error())
	}
	if got := partitions(); got != 1 {
		t.Fatalf("validate only changed the topic to %d partitions", got)
	}

	rs, err = adm.UpdatePartitions(ctxT(t, time.Minute), 4, "grow")
	if err != nil || rs.Error() != nil {
		t.Fatalf("grow to 4: %v %v", err, rs.Error())
	}
	// The shard that answered holds the change; another shard of the node
	// may answer Metadata from a catalog a moment behind, as another
	// broker can in Kafka.
	testkit.CheckFor(t, 10*time.Second, func() error {
		if got := partitions(); got != 4 {
			return fmt.Errorf("%d partitions after growing to 4", got)
		}
		return nil
	})
	topicShards(t, n, "grow")
	cl := manualClient(n)
	for p := int32(0); p < 4; p++ {
		if off := produceTo(t, cl, "grow", p, 2, 10); off != 1 {
			t.Fatalf("partition %d: last offset %d, want 1", p, off)
		}
	}

	for _, c := range []struct {
		what  string
		topic string
		count int
		want  error
	}{
		{"shrink", "grow", 2, kerr.InvalidPartitions},
		{"same count", "grow", 4, kerr.InvalidPartitions},
		{"too many", "grow", 10_000_000, kerr.InvalidPartitions},
		{"unknown topic", "nope", 3, kerr.UnknownTopicOrPartition},
	} {
		rs, err := adm.UpdatePartitions(ctxT(t, time.Minute), c.count, c.topic)
		if err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		r, _ := rs.On(c.topic, nil)
		if !errors.Is(r.Err, c.want) {
			t.Errorf("%s: %v (%s), want %v", c.what, r.Err, r.ErrMessage, c.want)
		}
	}
	if got := partitions(); got != 4 {
		t.Fatalf("refused requests changed the topic to %d partitions", got)
	}

	// sarama's admin, which sends CreatePartitions v0/v1.
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	sa, err := sarama.NewClusterAdmin([]string{n.Kafka}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	if err := sa.CreatePartitions("grow", 6, nil, false); err != nil {
		t.Fatalf("sarama create partitions: %v", err)
	}
	// sarama's connection may be served by the other shard: the change is
	// visible there at once, here very soon after.
	testkit.CheckFor(t, 10*time.Second, func() error {
		if got := partitions(); got != 6 {
			return fmt.Errorf("%d partitions after sarama grew to 6", got)
		}
		return nil
	})
	if err := sa.CreatePartitions("grow", 3, nil, false); err == nil {
		t.Fatal("sarama shrink accepted")
	}
}
