package tests

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/testkit"
)

// TestE2EDescribeConfigs describes a topic's configs (set on the topic, and
// defaults from the cluster config), the cluster properties as broker
// configs, and an unknown topic, with kadm and sarama.
func TestE2EDescribeConfigs(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	n.mu.Lock()
	base := n.AdminURL
	n.mu.Unlock()
	adm := n.Admin()
	createTopic(t, n, "described", 3, map[string]*string{
		"retention.ms": kadm.StringPtr("3600000"), "cleanup.policy": kadm.StringPtr("compact"),
	})
	if code, body := httpDo(t, "PUT", base+"/v1/cluster_config", `{"upsert":{"log_segment_size":268435456}}`); code != 200 {
		t.Fatalf("set log_segment_size: %d %s", code, body)
	}

	for _, c := range []struct {
		key, value string
		source     kmsg.ConfigSource
	}{
		{"retention.ms", "3600000", kmsg.ConfigSourceDynamicTopicConfig},
		{"cleanup.policy", "compact", kmsg.ConfigSourceDynamicTopicConfig},
		{"retention.bytes", "-1", kmsg.ConfigSourceDefaultConfig},
		{"compression.type", "producer", kmsg.ConfigSourceDefaultConfig},
		{"max.message.bytes", "1048576", kmsg.ConfigSourceDefaultConfig},
		{"message.timestamp.type", "CreateTime", kmsg.ConfigSourceDefaultConfig},
		{"write.caching", "false", kmsg.ConfigSourceDefaultConfig},
		{"redpanda.remote.write", "false", kmsg.ConfigSourceDefaultConfig},
		{"index.interval.bytes", "4096", kmsg.ConfigSourceDefaultConfig},
	} {
		got := topicConfig(t, adm, "described", c.key)
		if got.MaybeValue() != c.value || got.Source != c.source {
			t.Errorf("%s = %q from %v, want %q from %v", c.key, got.MaybeValue(), got.Source, c.value, c.source)
		}
	}
	// The default comes from the cluster property, which the synonyms name.
	// The change reaches every shard soon after the admin API answers.
	testkit.CheckFor(t, 10*time.Second, func() error {
		sb := topicConfig(t, adm, "described", "segment.bytes")
		if sb.MaybeValue() != "268435456" || sb.Source != kmsg.ConfigSourceDefaultConfig ||
			len(sb.Synonyms) == 0 || sb.Synonyms[0].Key != "log_segment_size" ||
			sb.Synonyms[0].Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
			return fmt.Errorf("segment.bytes: %q from %v, synonyms %+v", sb.MaybeValue(), sb.Source, sb.Synonyms)
		}
		return nil
	})

	// Unknown topic.
	rcs, err := adm.DescribeTopicConfigs(ctxT(t, time.Minute), "nope")
	if err != nil {
		t.Fatal(err)
	}
	if rc, _ := rcs.On("nope", nil); !errors.Is(rc.Err, kerr.UnknownTopicOrPartition) {
		t.Errorf("unknown topic: %v", rc.Err)
	}

	// Broker configs: the cluster properties, cluster-wide ("") or by id.
	md, err := adm.BrokerMetadata(ctxT(t, time.Minute))
	if err != nil || len(md.Brokers) != 1 {
		t.Fatalf("broker metadata: %v %v", err, md.Brokers)
	}
	for _, ids := range [][]int32{nil, {md.Brokers[0].NodeID}} {
		rcs, err := adm.DescribeBrokerConfigs(ctxT(t, time.Minute), ids...)
		if err != nil || len(rcs) != 1 || rcs[0].Err != nil {
			t.Fatalf("describe broker %v: %v %+v", ids, err, rcs)
		}
		got := map[string]kadm.Config{}
		for _, c := range rcs[0].Configs {
			got[c.Key] = c
		}
		if c := got["log_segment_size"]; c.MaybeValue() != "268435456" || c.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
			t.Errorf("broker %v log_segment_size: %q from %v", ids, c.MaybeValue(), c.Source)
		}
		if c := got["default_topic_partitions"]; c.MaybeValue() != "1" || c.Source != kmsg.ConfigSourceDefaultConfig {
			t.Errorf("broker %v default_topic_partitions: %q from %v", ids, c.MaybeValue(), c.Source)
		}
		if c, ok := got["retention_bytes"]; !ok || c.Value != nil {
			t.Errorf("broker %v retention_bytes: %v, want null", ids, c.Value)
		}
	}

	// sarama's admin (DescribeConfigs v2 for Kafka 2.8).
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	sa, err := sarama.NewClusterAdmin([]string{n.Kafka}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	entries, err := sa.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: "described"})
	if err != nil {
		t.Fatalf("sarama describe: %v", err)
	}
	found := false
	for _, e := range entries {
		if e.Name == "retention.ms" {
			found = e.Value == "3600000" && e.Source == sarama.SourceTopic && !e.Default
		}
	}
	if !found {
		t.Errorf("sarama: retention.ms not described as set on the topic: %+v", entries)
	}
	entries, err = sa.DescribeConfig(sarama.ConfigResource{Type: sarama.BrokerResource, Name: strconv.Itoa(int(md.Brokers[0].NodeID))})
	if err != nil || len(entries) == 0 {
		t.Fatalf("sarama describe broker: %v, %d entries", err, len(entries))
	}
	if _, err := sa.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: "nope"}); err == nil {
		t.Error("sarama: unknown topic described")
	}
}
