package controller

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ailurus/ailurus/internal/metadata"
)

func TestControllerAlterTopicConfig(t *testing.T) {
	n := runNode(t, testConfig(t, 1), true)
	n.mustCreate("t", 3, map[string]string{"retention.ms": "1000", "cleanup.policy": "delete"})

	ch, err := n.c.AlterTopicConfig(ctxT(t), AlterTopicConfigRequest{
		Topic: "t", Set: map[string]string{"retention.ms": "2000", "redpanda.remote.write": "true"}, Delete: []string{"cleanup.policy"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"retention.ms": "2000", "redpanda.remote.write": "true"}
	if got, _ := n.c.State().Topic("t"); !reflect.DeepEqual(got.Configs, want) || len(got.Partitions) != 3 {
		t.Errorf("topic after = %+v, want configs %v", got, want)
	}
	if ch.Kind != metadata.ChangeTopicConfigAltered || !reflect.DeepEqual(ch.Topic.Configs, want) {
		t.Errorf("change = %+v", ch)
	}

	// Setting the same values and deleting absent keys changes nothing.
	v := n.c.State().Version
	if _, err := n.c.AlterTopicConfig(ctxT(t), AlterTopicConfigRequest{
		Topic: "t", Set: map[string]string{"retention.ms": "2000"}, Delete: []string{"absent"},
	}); err != nil {
		t.Fatal(err)
	}
	if n.c.State().Version != v {
		t.Error("a no-op alter moved the version")
	}

	dry, err := n.c.AlterTopicConfig(ctxT(t), AlterTopicConfigRequest{Topic: "t", Set: map[string]string{"x": "1"}, ValidateOnly: true})
	if err != nil || dry.Topic.Configs["x"] != "1" {
		t.Errorf("validate-only: %v, %+v", err, dry.Topic)
	}
	if got, _ := n.c.State().Topic("t"); got.Configs["x"] != "" {
		t.Error("validate-only altered the topic")
	}

	for _, tc := range []struct {
		req  AlterTopicConfigRequest
		want error
	}{
		{AlterTopicConfigRequest{Topic: "nope", Set: map[string]string{"a": "b"}}, ErrUnknownTopic},
		{AlterTopicConfigRequest{Topic: "t", Set: map[string]string{"a": "b"}, Delete: []string{"a"}}, ErrInvalidConfig},
		{AlterTopicConfigRequest{Topic: "t", Delete: []string{""}}, ErrInvalidConfig},
	} {
		if _, err := n.c.AlterTopicConfig(ctxT(t), tc.req); !errors.Is(err, tc.want) {
			t.Errorf("AlterTopicConfig(%+v) = %v, want %v", tc.req, err, tc.want)
		}
	}
	if n.c.State().Version != v {
		t.Error("failed alters moved the version")
	}
}

func TestControllerClusterConfig(t *testing.T) {
	cfg := testConfig(t, 1)
	cfg.ClusterConfig = map[string]string{"log_retention_ms": "604800000", "auto_create_topics_enabled": "false"}
	n := runNode(t, cfg, true)

	st := n.c.State()
	if st.ClusterID.IsZero() {
		t.Error("cluster has no id after the first leader")
	}
	if !reflect.DeepEqual(map[string]string(st.ClusterConfig), cfg.ClusterConfig) {
		t.Errorf("initial cluster config = %v, want %v", st.ClusterConfig, cfg.ClusterConfig)
	}

	v, err := n.c.SetClusterConfig(ctxT(t), map[string]string{"log_retention_ms": "1000", "kafka_batch_max_bytes": "1048576"}, []string{"auto_create_topics_enabled"})
	if err != nil {
		t.Fatal(err)
	}
	want := metadata.ClusterConfig{"log_retention_ms": "1000", "kafka_batch_max_bytes": "1048576"}
	if st := n.c.State(); !reflect.DeepEqual(st.ClusterConfig, want) || st.Version != v {
		t.Errorf("cluster config = %v at version %d, want %v at %d", st.ClusterConfig, st.Version, want, v)
	}
	if v2, err := n.c.SetClusterConfig(ctxT(t), map[string]string{"log_retention_ms": "1000"}, []string{"never_set"}); err != nil || v2 != v {
		t.Errorf("no-op set: version %d, %v; want %d, nil", v2, err, v)
	}
	if _, err := n.c.SetClusterConfig(ctxT(t), map[string]string{"a": "1"}, []string{"a"}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("set and remove the same key: %v, want ErrInvalidConfig", err)
	}
	if _, err := n.c.SetClusterConfig(ctxT(t), map[string]string{"": "1"}, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("empty key: %v, want ErrInvalidConfig", err)
	}

	// The initial values apply once: a restart with other values keeps the log's.
	id := n.c.State().ClusterID
	n.cfg.ClusterConfig = map[string]string{"log_retention_ms": "5"}
	n.reopen()
	if st := n.c.State(); !reflect.DeepEqual(st.ClusterConfig, want) || st.ClusterID != id {
		t.Errorf("after restart: cluster %s config %v, want %s %v", st.ClusterID, st.ClusterConfig, id, want)
	}
}

func TestConfigValidateCollectsErrors(t *testing.T) {
	cfg := Config{NodeID: -1, HeartbeatTimeout: 1, LeaderLeaseTimeout: 2, ElectionTimeout: 1}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad config")
	}
	for _, want := range []string{"node id", "dir", "transport", "leader lease"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %q does not mention %q", err, want)
		}
	}
}
