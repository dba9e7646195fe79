package tests

import (
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/testkit"
)

// TestE2EAlterConfigs uses the legacy whole-state AlterConfigs: a topic's
// configs become exactly those sent, bad names and values are refused with
// nothing changed, validate-only changes nothing, and broker configs (the
// cluster properties) are read, modified and written back as tools do.
func TestE2EAlterConfigs(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	adm := n.Admin()
	createTopic(t, n, "replaced", 2, map[string]*string{
		"retention.ms": kadm.StringPtr("1000000"), "cleanup.policy": kadm.StringPtr("compact"),
	})
	ctx := ctxT(t, time.Minute)
	set := func(name, value string) []kadm.AlterConfig {
		return []kadm.AlterConfig{{Name: name, Value: kadm.StringPtr(value)}}
	}

	// Replace: segment.bytes is set, the others go back to their defaults.
	rs, err := adm.AlterTopicConfigsState(ctx, set("segment.bytes", "1048576"), "replaced")
	if e, m := alterErr(t, rs, err); e != nil {
		t.Fatalf("replace: %v %s", e, m)
	}
	if c := topicConfig(t, adm, "replaced", "segment.bytes"); c.MaybeValue() != "1048576" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Errorf("segment.bytes %q from %v", c.MaybeValue(), c.Source)
	}
	for key, def := range map[string]string{"retention.ms": "604800000", "cleanup.policy": "delete"} {
		if c := topicConfig(t, adm, "replaced", key); c.MaybeValue() != def || c.Source != kmsg.ConfigSourceDefaultConfig {
			t.Errorf("%s not replaced: %q from %v", key, c.MaybeValue(), c.Source)
		}
	}

	// Refused, and nothing changes.
	rs, err = adm.AlterTopicConfigsState(ctx, set("segment.bytes", "abc"), "replaced")
	wantAlterErr(t, "segment.bytes=abc", rs, err, kerr.InvalidConfig, "segment.bytes")
	rs, err = adm.AlterTopicConfigsState(ctx, set("segment.bytes", "-5"), "replaced")
	wantAlterErr(t, "segment.bytes=-5", rs, err, kerr.InvalidConfig, "segment.bytes")
	rs, err = adm.AlterTopicConfigsState(ctx, set("no.such.config", "1"), "replaced")
	wantAlterErr(t, "unknown config", rs, err, kerr.InvalidConfig, "no.such.config")
	rs, err = adm.AlterTopicConfigsState(ctx, set("retention.ms", "1"), "nope")
	wantAlterErr(t, "unknown topic", rs, err, kerr.UnknownTopicOrPartition, "")
	rs, err = adm.ValidateAlterTopicConfigsState(ctx, set("retention.ms", "5000"), "replaced")
	if e, m := alterErr(t, rs, err); e != nil {
		t.Fatalf("validate only: %v %s", e, m)
	}
	if c := topicConfig(t, adm, "replaced", "segment.bytes"); c.MaybeValue() != "1048576" {
		t.Errorf("refused or validate-only alters changed segment.bytes to %q", c.MaybeValue())
	}
	if c := topicConfig(t, adm, "replaced", "retention.ms"); c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("validate-only set retention.ms to %q", c.MaybeValue())
	}

	// Broker configs, as tools change them with AlterConfigs: describe, keep
	// the dynamic ones, change one, send them all back.
	rcs, err := adm.DescribeBrokerConfigs(ctx)
	if err != nil || len(rcs) != 1 {
		t.Fatalf("describe broker: %v", err)
	}
	var keep []kadm.AlterConfig
	dynamic := map[string]string{}
	for _, c := range rcs[0].Configs {
		if c.Source == kmsg.ConfigSourceDynamicDefaultBrokerConfig && c.Key != "default_topic_partitions" {
			keep = append(keep, kadm.AlterConfig{Name: c.Key, Value: c.Value})
			dynamic[c.Key] = c.MaybeValue()
		}
	}
	rs, err = adm.AlterBrokerConfigsState(ctx, append(keep, set("default_topic_partitions", "5")...))
	if e, m := alterErr(t, rs, err); e != nil {
		t.Fatalf("alter broker: %v %s", e, m)
	}
	testkit.CheckFor(t, 10*time.Second, func() error {
		rcs, err := adm.DescribeBrokerConfigs(ctx)
		if err != nil {
			return err
		}
		got := map[string]string{}
		for _, c := range rcs[0].Configs {
			if c.Source == kmsg.ConfigSourceDynamicDefaultBrokerConfig {
				got[c.Key] = c.MaybeValue()
			}
		}
		if got["default_topic_partitions"] != "5" {
			return fmt.Errorf("default_topic_partitions %q", got["default_topic_partitions"])
		}
		for k, v := range dynamic {
			if got[k] != v {
				return fmt.Errorf("%s changed from %q to %q", k, v, got[k])
			}
		}
		return nil
	})
	rs, err = adm.AlterBrokerConfigsState(ctx, set("log_segment_size", "lots"))
	wantAlterErr(t, "log_segment_size=lots", rs, err, kerr.InvalidConfig, "log_segment_size")
	rs, err = adm.AlterBrokerConfigsState(ctx, set("log_segment_sise", "1048576"))
	wantAlterErr(t, "unknown property", rs, err, kerr.InvalidConfig, `did you mean "log_segment_size"`)

	// sarama's admin sends AlterConfigs (legacy) too.
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	sa, err := sarama.NewClusterAdmin([]string{n.Kafka}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	if err := sa.AlterConfig(sarama.TopicResource, "replaced", map[string]*string{"retention.bytes": kadm.StringPtr("1000000")}, false); err != nil {
		t.Fatalf("sarama alter: %v", err)
	}
	testkit.CheckFor(t, 10*time.Second, func() error {
		if c := topicConfig(t, adm, "replaced", "retention.bytes"); c.MaybeValue() != "1000000" {
			return fmt.Errorf("retention.bytes %q after sarama's alter", c.MaybeValue())
		}
		return nil
	})
	if err := sa.AlterConfig(sarama.TopicResource, "replaced", map[string]*string{"retention.bytes": kadm.StringPtr("lots")}, false); err == nil {
		t.Error("sarama: retention.bytes=lots accepted")
	}
}
