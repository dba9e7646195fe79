package metadata

import (
	"encoding/json"
	"reflect"
	"testing"
)

func testTopic(name string, id byte, rev int64, replicas ...Replica) *Topic {
	t := &Topic{Name: name, ID: UUID{id}, Revision: rev, Configs: map[string]string{"cleanup.policy": "compact"}}
	for i, r := range replicas {
		t.Partitions = append(t.Partitions, Partition{ID: int32(i), Replicas: []Replica{r}, Leader: r})
	}
	return t
}

func TestStateWithLeavesReceiverUntouched(t *testing.T) {
	s0 := NewState()
	s1 := s0.WithTopic(testTopic("a", 1, 5, Replica{0, 0}))
	s2 := s1.WithoutTopic("a").WithBroker(Broker{NodeID: 0, KafkaAddr: "h:9092", Shards: 1})
	if len(s0.Topics) != 0 || len(s0.Brokers) != 0 {
		t.Error("With* modified the empty state")
	}
	if _, ok := s1.TopicByID(UUID{1}); !ok {
		t.Error("s1 lost topic a by id")
	}
	if _, ok := s2.TopicByID(UUID{1}); ok {
		t.Error("deleted topic still found by id")
	}
	if _, ok := s1.Broker(0); ok {
		t.Error("WithBroker modified its receiver")
	}
}

func TestStateLookups(t *testing.T) {
	s := NewState().
		WithTopic(testTopic("b", 2, 7, Replica{0, 1}, Replica{1, 0}, Replica{0, 1})).
		WithTopic(testTopic("a", 1, 5, Replica{0, 1}))
	got := s.PartitionsOn(0, 1)
	var names []string
	var parts []int32
	for _, op := range got {
		names = append(names, op.Topic.Name)
		parts = append(parts, op.Partition)
	}
	if !reflect.DeepEqual(names, []string{"a", "b", "b"}) || !reflect.DeepEqual(parts, []int32{0, 0, 2}) {
		t.Errorf("PartitionsOn(0,1) = %v %v", names, parts)
	}
	if load := s.Load(); load[Replica{0, 1}] != 3 || load[Replica{1, 0}] != 1 {
		t.Errorf("Load = %v", load)
	}
	if tp, _ := s.Topic("b"); tp.PartitionDir(2) != "2_7" {
		t.Errorf("PartitionDir = %q, want 2_7", tp.PartitionDir(2))
	}
	if !reflect.DeepEqual(s.TopicNames(), []string{"a", "b"}) {
		t.Errorf("TopicNames = %v", s.TopicNames())
	}
}

func TestStateJSONRoundTrip(t *testing.T) {
	id, err := NewUUID(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := NewState().
		WithClusterID(id).
		WithBroker(Broker{NodeID: 3, KafkaAddr: "h:9092", Shards: 2, Rack: "r1"}).
		WithTopic(testTopic("a", 9, 5, Replica{3, 1})).
		WithClusterConfig(ClusterConfig{"log_retention_ms": "1000"})
	s.Version = 42
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s.Clone()) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, s.Clone())
	}
	if tp, ok := back.TopicByID(UUID{9}); !ok || tp.Name != "a" {
		t.Error("index not rebuilt after decoding")
	}
}

func TestCloneIsDeep(t *testing.T) {
	s := NewState().WithTopic(testTopic("a", 1, 5, Replica{0, 0}))
	c := s.Clone()
	c.Topics["a"].Configs["x"] = "y"
	c.Topics["a"].Partitions[0].Replicas[0].Shard = 9
	if orig, _ := s.Topic("a"); orig.Configs["x"] != "" || orig.Partitions[0].Replicas[0].Shard != 0 {
		t.Error("modifying a clone changed the original")
	}
}
