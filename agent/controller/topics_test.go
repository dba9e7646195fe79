package controller

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ailurus/ailurus/internal/metadata"
)

func TestControllerTopicLifecycle(t *testing.T) {
	n := runNode(t, testConfig(t, 1), true)
	a := n.mustCreate("orders", 6, map[string]string{"cleanup.policy": "compact"})
	b := n.mustCreate("payments.eu", 1, nil)

	st := n.c.State()
	if got := st.TopicNames(); !reflect.DeepEqual(got, []string{"orders", "payments.eu"}) {
		t.Fatalf("topics = %v", got)
	}
	if a.ID.IsZero() || b.ID.IsZero() || a.ID == b.ID {
		t.Errorf("topic ids %s, %s: want non-zero and distinct", a.ID, b.ID)
	}
	if a.Revision <= 0 || b.Revision <= a.Revision {
		t.Errorf("revisions %d, %d: want positive and increasing", a.Revision, b.Revision)
	}
	if a.Configs["cleanup.policy"] != "compact" {
		t.Errorf("configs = %v", a.Configs)
	}
	// 6 partitions over 4 shards of node 1: 2,2,1,1; then b goes to shard 2.
	perShard := map[int]int{}
	for i, p := range a.Partitions {
		if p.ID != int32(i) || len(p.Replicas) != 1 || p.Replicas[0].NodeID != 1 || p.Leader != p.Replicas[0] {
			t.Errorf("partition %d = %+v", i, p)
		}
		perShard[p.Replicas[0].Shard]++
	}
	if !reflect.DeepEqual(perShard, map[int]int{0: 2, 1: 2, 2: 1, 3: 1}) {
		t.Errorf("orders per shard = %v", perShard)
	}
	if got := b.Partitions[0].Replicas[0]; got != (metadata.Replica{NodeID: 1, Shard: 2}) {
		t.Errorf("payments.eu placed on %+v, want the least-loaded shard 2", got)
	}
	if got, ok := st.TopicByID(a.ID); !ok || got.Name != "orders" {
		t.Error("TopicByID(orders) not found")
	}

	ch, err := n.c.DeleteTopic(ctxT(t), "orders")
	if err != nil {
		t.Fatal(err)
	}
	if ch.Kind != metadata.ChangeTopicDeleted || ch.Topic.ID != a.ID || ch.Topic.Revision != a.Revision {
		t.Errorf("delete change = %+v", ch)
	}
	if _, err := n.c.DeleteTopicByID(ctxT(t), b.ID); err != nil {
		t.Fatal(err)
	}
	if names := n.c.State().TopicNames(); len(names) != 0 {
		t.Errorf("after deletes, topics = %v", names)
	}
	// A new topic of the same name is a new topic: new id, new revision.
	again := n.mustCreate("orders", 1, nil)
	if again.ID == a.ID || again.Revision <= b.Revision {
		t.Errorf("recreated topic id %s rev %d; old id %s rev %d", again.ID, again.Revision, a.ID, a.Revision)
	}
}

func TestControllerCreateTopicErrors(t *testing.T) {
	n := runNode(t, testConfig(t, 1), true)
	n.mustCreate("taken", 1, nil)
	n.mustCreate("metrics.cpu", 1, nil)

	tests := []struct {
		name string
		req  CreateTopicRequest
		want error
		code int16
		msg  string
	}{
		{"duplicate", CreateTopicRequest{Name: "taken", Partitions: 1, ReplicationFactor: 1}, ErrTopicExists, 36, ""},
		{"empty name", CreateTopicRequest{Name: "", Partitions: 1, ReplicationFactor: 1}, ErrInvalidTopicName, 17, ""},
		{"dot", CreateTopicRequest{Name: ".", Partitions: 1, ReplicationFactor: 1}, ErrInvalidTopicName, 17, ""},
		{"bad char", CreateTopicRequest{Name: "a/b", Partitions: 1, ReplicationFactor: 1}, ErrInvalidTopicName, 17, ""},
		{"too long", CreateTopicRequest{Name: strings.Repeat("x", 250), Partitions: 1, ReplicationFactor: 1}, ErrInvalidTopicName, 17, ""},
		{"collision", CreateTopicRequest{Name: "metrics_cpu", Partitions: 1, ReplicationFactor: 1}, ErrInvalidTopicName, 17, "collides"},
		{"zero partitions", CreateTopicRequest{Name: "t", Partitions: 0, ReplicationFactor: 1}, ErrInvalidPartitions, 37, ""},
		{"negative partitions", CreateTopicRequest{Name: "t", Partitions: -2, ReplicationFactor: 1}, ErrInvalidPartitions, 37, ""},
		{"huge partitions", CreateTopicRequest{Name: "t", Partitions: MaxPartitions + 1, ReplicationFactor: 1}, ErrInvalidPartitions, 37, ""},
		{"rf 3", CreateTopicRequest{Name: "t", Partitions: 1, ReplicationFactor: 3}, ErrInvalidReplicationFactor, 38, "replication factor 3 > 1 is not supported yet"},
		{"rf 0", CreateTopicRequest{Name: "t", Partitions: 1, ReplicationFactor: 0}, ErrInvalidReplicationFactor, 38, ""},
		{"empty config key", CreateTopicRequest{Name: "t", Partitions: 1, ReplicationFactor: 1, Configs: map[string]string{"": "x"}}, ErrInvalidConfig, 40, ""},
	}
	before := n.c.State().Version
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := n.c.CreateTopic(ctxT(t), tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if got := ErrorCode(err); got != tc.code {
				t.Errorf("ErrorCode = %d, want %d", got, tc.code)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %q, want it to say %q", err, tc.msg)
			}
		})
	}
	if after := n.c.State().Version; after != before {
		t.Errorf("failed creates moved the version from %d to %d", before, after)
	}
	if _, ok := n.c.State().Topic("t"); ok {
		t.Error("a rejected topic exists")
	}
}

func TestControllerCreateTopicDefaultsAndValidateOnly(t *testing.T) {
	cfg := testConfig(t, 1)
	cfg.ClusterConfig = map[string]string{metadata.KeyDefaultTopicPartitions: "3"}
	n := runNode(t, cfg, true)

	ch, err := n.c.CreateTopic(ctxT(t), CreateTopicRequest{Name: "dry", Partitions: -1, ReplicationFactor: -1, ValidateOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Topic.Partitions) != 3 || !ch.Topic.ID.IsZero() {
		t.Errorf("validate-only topic = %+v; want 3 partitions, zero id", ch.Topic)
	}
	if _, ok := n.c.State().Topic("dry"); ok {
		t.Fatal("validate-only created the topic")
	}
	if got := n.mustCreate("wet", -1, nil); len(got.Partitions) != 3 {
		t.Errorf("-1 partitions gave %d, want the cluster default 3", len(got.Partitions))
	}
	if _, err := n.c.CreateTopic(ctxT(t), CreateTopicRequest{Name: "wet", Partitions: 1, ReplicationFactor: 1, ValidateOnly: true}); !errors.Is(err, ErrTopicExists) {
		t.Errorf("validate-only of an existing topic: %v, want ErrTopicExists", err)
	}
}

func TestControllerCreateTopicWithoutBrokers(t *testing.T) {
	n := runNode(t, testConfig(t, 1), false)
	if err := n.c.WaitReady(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	_, err := n.c.CreateTopic(ctxT(t), CreateTopicRequest{Name: "t", Partitions: 1, ReplicationFactor: 1})
	if !errors.Is(err, ErrInvalidReplicationFactor) || !errors.Is(err, metadata.ErrNotEnoughBrokers) {
		t.Errorf("create with no brokers: %v, want ErrInvalidReplicationFactor", err)
	}
}

func TestControllerCreatePartitions(t *testing.T) {
	n := runNode(t, testConfig(t, 1), true)
	orig := n.mustCreate("t", 2, map[string]string{"retention.ms": "1000"})

	ch, err := n.c.CreatePartitions(ctxT(t), CreatePartitionsRequest{Topic: "t", Count: 5})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Kind != metadata.ChangePartitionsCreated || !reflect.DeepEqual(ch.Partitions, []int32{2, 3, 4}) {
		t.Errorf("change = %+v", ch)
	}
	got, _ := n.c.State().Topic("t")
	if len(got.Partitions) != 5 || got.ID != orig.ID || got.Revision != orig.Revision || got.Configs["retention.ms"] != "1000" {
		t.Fatalf("topic after = %+v", got)
	}
	for i, p := range got.Partitions {
		if p.ID != int32(i) {
			t.Errorf("partition %d has id %d", i, p.ID)
		}
	}
	// Shards 0,1 held the first two; the new three go to 2, 3, then 0.
	if s := []int{got.Partitions[2].Replicas[0].Shard, got.Partitions[3].Replicas[0].Shard, got.Partitions[4].Replicas[0].Shard}; !reflect.DeepEqual(s, []int{2, 3, 0}) {
		t.Errorf("new partitions on shards %v, want [2 3 0]", s)
	}
	if len(orig.Partitions) != 2 {
		t.Error("CreatePartitions modified the topic of an earlier State")
	}

	dry, err := n.c.CreatePartitions(ctxT(t), CreatePartitionsRequest{Topic: "t", Count: 7, ValidateOnly: true})
	if err != nil || len(dry.Topic.Partitions) != 7 {
		t.Errorf("validate-only: %v, %+v", err, dry.Topic)
	}

	before := n.c.State().Version
	for _, tc := range []struct {
		req  CreatePartitionsRequest
		want error
	}{
		{CreatePartitionsRequest{Topic: "t", Count: 3}, ErrInvalidPartitions},
		{CreatePartitionsRequest{Topic: "t", Count: 5}, ErrInvalidPartitions},
		{CreatePartitionsRequest{Topic: "t", Count: -1}, ErrInvalidPartitions},
		{CreatePartitionsRequest{Topic: "t", Count: MaxPartitions + 1}, ErrInvalidPartitions},
		{CreatePartitionsRequest{Topic: "nope", Count: 9}, ErrUnknownTopic},
	} {
		if _, err := n.c.CreatePartitions(ctxT(t), tc.req); !errors.Is(err, tc.want) {
			t.Errorf("CreatePartitions(%+v) = %v, want %v", tc.req, err, tc.want)
		}
	}
	if n.c.State().Version != before {
		t.Error("failed CreatePartitions moved the version")
	}
	if got, _ := n.c.State().Topic("t"); len(got.Partitions) != 5 {
		t.Errorf("partitions = %d after failed requests, want 5", len(got.Partitions))
	}
}

func TestControllerDeleteTopicErrors(t *testing.T) {
	n := runNode(t, testConfig(t, 1), true)
	if _, err := n.c.DeleteTopic(ctxT(t), "nope"); !errors.Is(err, ErrUnknownTopic) || ErrorCode(err) != 3 {
		t.Errorf("DeleteTopic(nope) = %v", err)
	}
	if _, err := n.c.DeleteTopicByID(ctxT(t), metadata.UUID{1}); !errors.Is(err, ErrUnknownTopicID) || ErrorCode(err) != 100 {
		t.Errorf("DeleteTopicByID(unknown) = %v", err)
	}
}
