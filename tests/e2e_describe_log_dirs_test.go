package tests

import (
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
)

// TestE2EDescribeLogDirs lists the node's log dir with every partition it
// holds, on both shards, with sizes that grow with the data, the disk's
// total and usable bytes, and only the partitions asked for when asked.
func TestE2EDescribeLogDirs(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	adm := n.Admin()
	createTopic(t, n, "dirs", 4, nil)
	createTopic(t, n, "other", 1, nil)
	topicShards(t, n, "dirs")
	cl := manualClient(n)
	for p := int32(0); p < 4; p++ {
		produceTo(t, cl, "dirs", p, int(p)+1, 100)
	}
	id := nodeID(t, n)

	all, err := adm.DescribeAllLogDirs(ctxT(t, time.Minute), nil)
	if err != nil {
		t.Fatal(err)
	}
	dirs := all[id]
	if len(all) != 1 || len(dirs) != 1 {
		t.Fatalf("want one broker with one dir, got %+v", all)
	}
	d, ok := dirs[n.DataDir]
	if !ok || d.Err != nil {
		t.Fatalf("no healthy dir %s: %+v", n.DataDir, dirs)
	}
	if d.TotalBytes <= 0 || d.UsableBytes <= 0 || d.UsableBytes > d.TotalBytes {
		t.Errorf("disk bytes: total %d usable %d", d.TotalBytes, d.UsableBytes)
	}
	if len(d.Topics["dirs"]) != 4 || len(d.Topics["other"]) != 1 {
		t.Fatalf("topics %+v", d.Topics)
	}
	prev := int64(0)
	for p := int32(0); p < 4; p++ {
		dp, ok := d.Topics.Lookup("dirs", p)
		if !ok || dp.Size <= prev {
			t.Errorf("partition %d: size %d (present %v), want more than %d", p, dp.Size, ok, prev)
		}
		prev = dp.Size
	}

	var some kadm.TopicsSet
	some.Add("dirs", 1, 3)
	dirs, err = adm.DescribeBrokerLogDirs(ctxT(t, time.Minute), id, some)
	if err != nil {
		t.Fatal(err)
	}
	got := dirs[n.DataDir].Topics
	if len(got) != 1 || len(got["dirs"]) != 2 {
		t.Fatalf("asked for dirs 1 and 3, got %+v", got)
	}
	for _, p := range []int32{1, 3} {
		if _, ok := got.Lookup("dirs", p); !ok {
			t.Errorf("partition %d missing", p)
		}
	}

	// sarama's admin (DescribeLogDirs v1 for Kafka 2.8).
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	sa, err := sarama.NewClusterAdmin([]string{n.Kafka}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	sd, err := sa.DescribeLogDirs([]int32{id})
	if err != nil || len(sd[id]) != 1 || sd[id][0].Path != n.DataDir {
		t.Fatalf("sarama: %v %+v", err, sd)
	}
	parts := 0
	for _, tp := range sd[id][0].Topics {
		if tp.Topic == "dirs" {
			parts += len(tp.Partitions)
		}
	}
	if parts != 4 {
		t.Errorf("sarama sees %d partitions of dirs, want 4", parts)
	}
}
