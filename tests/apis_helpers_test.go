package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Helpers for the admin API tests (CreatePartitions, configs, DeleteRecords,
// OffsetForLeaderEpoch, DescribeLogDirs, DescribeCluster).

// createTopic creates a topic with kadm and fails the test if it cannot.
func createTopic(t *testing.T, n *Node, name string, partitions int32, configs map[string]*string) {
	t.Helper()
	r, err := n.Admin().CreateTopic(ctxT(t, time.Minute), partitions, 1, configs, name)
	if err == nil {
		err = r.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v (%s)", name, err, r.ErrMessage)
	}
}

// produceTo produces count records of size bytes to one partition, one
// batch per record, and returns the offset of the last one.
func produceTo(t *testing.T, cl *kgo.Client, topic string, partition int32, count, size int) int64 {
	t.Helper()
	var last int64 = -1
	for i := range count {
		r := &kgo.Record{Topic: topic, Partition: partition, Value: []byte(fmt.Sprintf("%0*d", size, i))}
		res := cl.ProduceSync(ctxT(t, time.Minute), r)
		if err := res.FirstErr(); err != nil {
			t.Fatalf("produce to %s/%d: %v", topic, partition, err)
		}
		last = res[0].Record.Offset
	}
	return last
}

// manualClient produces to the partition each record names.
func manualClient(n *Node) *kgo.Client {
	return n.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
}

// topicShards returns, from the admin API, the shard holding each partition
// of topic, and fails unless the topic spans at least two shards: the tests
// then cover partitions reached through another shard.
func topicShards(t *testing.T, n *Node, topic string) map[int32]int {
	t.Helper()
	n.mu.Lock()
	base := n.AdminURL
	n.mu.Unlock()
	code, body := httpDo(t, "GET", base+"/v1/partitions", "")
	var ps []struct {
		Topic     string `json:"topic"`
		Partition int32  `json:"partition_id"`
		Core      int    `json:"core"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &ps) != nil {
		t.Fatalf("partitions: %d %s", code, body)
	}
	out := map[int32]int{}
	shards := map[int]bool{}
	for _, p := range ps {
		if p.Topic == topic {
			out[p.Partition] = p.Core
			shards[p.Core] = true
		}
	}
	if len(shards) < 2 {
		t.Fatalf("topic %s is on shards %v; the test wants it on two", topic, shards)
	}
	return out
}

// topicConfig returns one config of a topic as DescribeConfigs reports it.
func topicConfig(t *testing.T, adm *kadm.Client, topic, key string) kadm.Config {
	t.Helper()
	rcs, err := adm.DescribeTopicConfigs(ctxT(t, time.Minute), topic)
	if err != nil {
		t.Fatalf("describe %s: %v", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		t.Fatalf("describe %s: %v", topic, err)
	}
	for _, c := range rc.Configs {
		if c.Key == key {
			return c
		}
	}
	t.Fatalf("describe %s: no %s", topic, key)
	return kadm.Config{}
}

// alterErr returns the error of the one resource an alter answered for, with
// its message.
func alterErr(t *testing.T, rs kadm.AlterConfigsResponses, err error) (error, string) {
	t.Helper()
	if err != nil {
		t.Fatalf("alter configs: %v", err)
	}
	if len(rs) != 1 {
		t.Fatalf("alter configs: %d answers, want 1", len(rs))
	}
	return rs[0].Err, rs[0].ErrMessage
}

// wantAlterErr fails unless the alter was refused with want and a message
// containing msg.
func wantAlterErr(t *testing.T, what string, rs kadm.AlterConfigsResponses, err error, want error, msg string) {
	t.Helper()
	got, m := alterErr(t, rs, err)
	if got != want || !strings.Contains(m, msg) {
		t.Errorf("%s: %v %q, want %v with %q", what, got, m, want, msg)
	}
}

// nodeID is the node's broker id.
func nodeID(t *testing.T, n *Node) int32 {
	t.Helper()
	md, err := n.Admin().BrokerMetadata(ctxT(t, time.Minute))
	if err != nil || len(md.Brokers) != 1 {
		t.Fatalf("broker metadata: %v %v", err, md.Brokers)
	}
	return md.Brokers[0].NodeID
}
