package metadata

import (
	"errors"
	"testing"
)

func TestApplyFollowsChanges(t *testing.T) {
	s := NewState()
	id := UUID{1}
	s1, err := s.Apply(Change{Version: 1, Kind: ChangeClusterInitialized, ClusterID: id, ClusterConfig: ClusterConfig{"a": "1"}})
	if err != nil || s1.ClusterID != id || s1.ClusterConfig["a"] != "1" || s1.Version != 1 {
		t.Fatalf("init: %+v %v", s1, err)
	}
	top := &Topic{Name: "t", ID: UUID{2}, Revision: 5, Partitions: []Partition{{ID: 0, Replicas: []Replica{{NodeID: 1, Shard: 0}}}}}
	s2, err := s1.Apply(Change{Version: 2, Kind: ChangeTopicCreated, Topic: top})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := s2.TopicByID(UUID{2}); !ok || got.Name != "t" || len(s2.PartitionsOn(1, 0)) != 1 {
		t.Fatalf("topic not applied: %+v", s2.Topics)
	}
	if _, ok := s1.Topic("t"); ok {
		t.Fatal("Apply modified its receiver")
	}
	s3, err := s2.Apply(Change{Version: 3, Kind: ChangeTopicDeleted, Topic: top})
	if err != nil || len(s3.Topics) != 0 {
		t.Fatalf("delete: %v %v", s3.Topics, err)
	}
	if _, err := s3.Apply(Change{Version: 5, Kind: ChangeTopicCreated, Topic: top}); !errors.Is(err, ErrNeedSnapshot) {
		t.Fatalf("gap: %v", err)
	}
	if _, err := s3.Apply(Change{Version: 4, Kind: ChangeStateReset}); !errors.Is(err, ErrNeedSnapshot) {
		t.Fatalf("reset: %v", err)
	}
}
