package shard

import (
	"slices"
	"strings"
	"testing"

	"github.com/ailurus/ailurus/internal/config"
	"github.com/ailurus/ailurus/internal/metadata"
	"github.com/ailurus/ailurus/internal/storage"
)

// TestTopicConfigTable checks the table: sorted, every built-in default
// valid for its own config, every cluster property it names real, and a
// null cluster property given a meaning for the configs the log uses.
func TestTopicConfigTable(t *testing.T) {
	if !slices.IsSortedFunc(topicConfigs, func(a, b topicConfig) int { return strings.Compare(a.name, b.name) }) {
		t.Error("topicConfigs is not sorted by name")
	}
	for _, c := range topicConfigs {
		if def := c.builtin(); def != "" || c.enum != nil {
			if _, err := c.parse(def); err != nil {
				t.Errorf("%s: built-in default: %v", c.name, err)
			}
		}
		if c.cluster == "" {
			continue
		}
		p, ok := config.LookupClusterProperty(c.cluster)
		if !ok {
			t.Errorf("%s: no cluster property %q", c.name, c.cluster)
			continue
		}
		if p.Nullable && c.null == "" {
			t.Errorf("%s: %s may be null but null has no value here", c.name, c.cluster)
		}
		if v, fromCluster := c.defaultValue(nil); v == "" || fromCluster {
			t.Errorf("%s: default %q (from cluster config %v) with no cluster config", c.name, v, fromCluster)
		}
	}
}

// TestLogOptions checks the mapping from cluster and topic configs to the
// partition log's options, and that bad values are refused.
func TestLogOptions(t *testing.T) {
	o, err := logOptions(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := storage.DefaultOptions()
	if o.SegmentBytes != d.SegmentBytes || o.RetentionMs != d.RetentionMs || o.RetentionBytes != -1 || o.Compact || o.WriteCaching {
		t.Errorf("defaults: %+v", o)
	}
	if o.SegmentMs != 14*24*3600*1000 {
		t.Errorf("segment.ms default %d, want log_segment_ms's", o.SegmentMs)
	}
	cluster := metadata.ClusterConfig{"log_segment_size": "2097152", "log_retention_ms": "null",
		"log_cleanup_policy": "compact,delete", "write_caching_default": "disabled", "log_segment_ms": "null"}
	o, err = logOptions(cluster, map[string]string{"retention.bytes": "1000", "write.caching": "true"})
	if err != nil {
		t.Fatal(err)
	}
	if o.SegmentBytes != 2<<20 || o.RetentionMs != -1 || o.RetentionBytes != 1000 || !o.Compact || o.WriteCaching || o.SegmentMs != 0 {
		t.Errorf("from cluster: %+v", o)
	}
	o, err = logOptions(nil, map[string]string{"cleanup.policy": "delete, compact", "segment.bytes": "1024", "write.caching": "TRUE"})
	if err != nil || !o.Compact || o.SegmentBytes != 1024 || o.PreallocBytes != 0 || !o.WriteCaching {
		t.Errorf("topic values: %+v %v", o, err)
	}
	for _, bad := range []map[string]string{
		{"segment.bytes": "abc"}, {"segment.bytes": "-5"}, {"retention.ms": "-2"}, {"cleanup.policy": "forever"},
		{"write.caching": "yes"}, {"segment.bytes": "4294967296"},
	} {
		if _, err := logOptions(nil, bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	// Configs the log does not use are not its business.
	if _, err := logOptions(nil, map[string]string{"min.insync.replicas": "x", "unknown.thing": "1"}); err != nil {
		t.Errorf("unused configs refused: %v", err)
	}
}
