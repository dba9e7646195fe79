package tests

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/testkit"
)

// TestE2EIncrementalAlterConfigs sets, deletes, appends to and subtracts
// from topic configs, checks that bad requests are refused and change
// nothing, that a new segment.bytes reaches the open partitions on both
// shards, and that broker configs (cluster properties) can be set and
// deleted and become the topics' defaults.
func TestE2EIncrementalAlterConfigs(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	adm := n.Admin()
	createTopic(t, n, "inc", 4, nil)
	shards := topicShards(t, n, "inc")
	ctx := ctxT(t, 2*time.Minute)
	op := func(o kadm.IncrementalOp, name, value string) []kadm.AlterConfig {
		c := kadm.AlterConfig{Op: o, Name: name}
		if value != "" {
			c.Value = kadm.StringPtr(value)
		}
		return []kadm.AlterConfig{c}
	}
	alter := func(what string, cs []kadm.AlterConfig) {
		t.Helper()
		rs, err := adm.AlterTopicConfigs(ctx, cs, "inc")
		if e, m := alterErr(t, rs, err); e != nil {
			t.Fatalf("%s: %v %s", what, e, m)
		}
	}
	want := func(key, value string, source kmsg.ConfigSource) {
		t.Helper()
		if c := topicConfig(t, adm, "inc", key); c.MaybeValue() != value || c.Source != source {
			t.Errorf("%s = %q from %v, want %q from %v", key, c.MaybeValue(), c.Source, value, source)
		}
	}

	alter("set", op(kadm.SetConfig, "retention.ms", "5000"))
	want("retention.ms", "5000", kmsg.ConfigSourceDynamicTopicConfig)
	alter("delete", op(kadm.DeleteConfig, "retention.ms", ""))
	want("retention.ms", "604800000", kmsg.ConfigSourceDefaultConfig)
	alter("append", op(kadm.AppendConfig, "cleanup.policy", "compact"))
	want("cleanup.policy", "compact,delete", kmsg.ConfigSourceDynamicTopicConfig)
	alter("subtract", op(kadm.SubtractConfig, "cleanup.policy", "delete"))
	want("cleanup.policy", "compact", kmsg.ConfigSourceDynamicTopicConfig)

	for _, c := range []struct {
		what string
		cs   []kadm.AlterConfig
		msg  string
	}{
		{"segment.bytes=abc", op(kadm.SetConfig, "segment.bytes", "abc"), "segment.bytes"},
		{"segment.bytes=-5", op(kadm.SetConfig, "segment.bytes", "-5"), "segment.bytes"},
		{"unknown config", op(kadm.SetConfig, "no.such.config", "1"), "no.such.config"},
		{"subtract to nothing", op(kadm.SubtractConfig, "cleanup.policy", "compact"), "cleanup.policy"},
		{"append to a number", op(kadm.AppendConfig, "retention.ms", "5"), "list"},
		{"bad enum", op(kadm.SetConfig, "compression.type", "zstd"), "producer"},
	} {
		rs, err := adm.AlterTopicConfigs(ctx, c.cs, "inc")
		wantAlterErr(t, c.what, rs, err, kerr.InvalidConfig, c.msg)
	}
	rs, err := adm.AlterTopicConfigs(ctx, op(kadm.SetConfig, "retention.ms", "1"), "nope")
	wantAlterErr(t, "unknown topic", rs, err, kerr.UnknownTopicOrPartition, "")
	rs, err = adm.ValidateAlterTopicConfigs(ctx, op(kadm.SetConfig, "retention.ms", "1"), "inc")
	if e, m := alterErr(t, rs, err); e != nil {
		t.Fatalf("validate only: %v %s", e, m)
	}
	want("retention.ms", "604800000", kmsg.ConfigSourceDefaultConfig)
	want("cleanup.policy", "compact", kmsg.ConfigSourceDynamicTopicConfig)

	// The open partitions, on both shards, roll segments at the new size:
	// one ~600-byte batch per segment.
	alter("segment.bytes", op(kadm.SetConfig, "segment.bytes", "1024"))
	cl := manualClient(n)
	testkit.CheckFor(t, 30*time.Second, func() error {
		for p, shard := range shards {
			produceTo(t, cl, "inc", p, 1, 600)
			logs, _ := filepath.Glob(filepath.Join(n.DataDir, "kafka", "inc", fmt.Sprintf("%d_*", p), "*.log"))
			if len(logs) < 3 {
				return fmt.Errorf("partition %d (shard %d) has %d segments", p, shard, len(logs))
			}
		}
		return nil
	})

	// Broker configs: a cluster property becomes the topics' default.
	brs, err := adm.AlterBrokerConfigs(ctx, op(kadm.SetConfig, "log_retention_ms", "86400000"))
	if e, m := alterErr(t, brs, err); e != nil {
		t.Fatalf("set log_retention_ms: %v %s", e, m)
	}
	testkit.CheckFor(t, 10*time.Second, func() error {
		if c := topicConfig(t, adm, "inc", "retention.ms"); c.MaybeValue() != "86400000" {
			return fmt.Errorf("retention.ms %q after log_retention_ms=86400000", c.MaybeValue())
		}
		return nil
	})
	brs, err = adm.AlterBrokerConfigs(ctx, op(kadm.DeleteConfig, "log_retention_ms", ""))
	if e, m := alterErr(t, brs, err); e != nil {
		t.Fatalf("delete log_retention_ms: %v %s", e, m)
	}
	testkit.CheckFor(t, 10*time.Second, func() error {
		if c := topicConfig(t, adm, "inc", "retention.ms"); c.MaybeValue() != "604800000" {
			return fmt.Errorf("retention.ms %q after deleting log_retention_ms", c.MaybeValue())
		}
		return nil
	})
	brs, err = adm.AlterBrokerConfigs(ctx, op(kadm.SetConfig, "log_segment_size", "lots"))
	wantAlterErr(t, "log_segment_size=lots", brs, err, kerr.InvalidConfig, "log_segment_size")
	brs, err = adm.AlterBrokerConfigs(ctx, op(kadm.AppendConfig, "log_cleanup_policy", "compact"))
	wantAlterErr(t, "append to a cluster property", brs, err, kerr.InvalidConfig, "list")
	brs, err = adm.ValidateAlterBrokerConfigs(ctx, op(kadm.SetConfig, "default_topic_partitions", "7"))
	if e, m := alterErr(t, brs, err); e != nil {
		t.Fatalf("validate broker: %v %s", e, m)
	}
	rcs, err := adm.DescribeBrokerConfigs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rcs[0].Configs {
		if c.Key == "default_topic_partitions" && c.MaybeValue() != "1" {
			t.Errorf("validate-only set default_topic_partitions to %q", c.MaybeValue())
		}
	}
}
