package shard

import (
	"fmt"
	"strconv"

	"github.com/ailurus/ailurus/internal/metadata"
	"github.com/ailurus/ailurus/internal/storage"
)

// logOptions derives a partition log's options from the cluster defaults
// and the topic's configs (Kafka names, and Redpanda's where Kafka has none).
func logOptions(cluster metadata.ClusterConfig, topic map[string]string) (storage.Options, error) {
	o := storage.DefaultOptions()
	o.SegmentBytes = cluster.Int("log_segment_size", o.SegmentBytes)
	o.RetentionMs = cluster.Int("log_retention_ms", o.RetentionMs)
	o.RetentionBytes = cluster.Int("retention_bytes", o.RetentionBytes)
	if cluster["log_cleanup_policy"] == "compact" {
		o.Compact = true
	}
	if cluster["write_caching_default"] == "true" {
		o.WriteCaching = true
	}
	ints := []struct {
		key string
		dst *int64
	}{
		{"segment.bytes", &o.SegmentBytes},
		{"segment.ms", &o.SegmentMs},
		{"retention.ms", &o.RetentionMs},
		{"retention.bytes", &o.RetentionBytes},
		{"index.interval.bytes", &o.IndexIntervalBytes},
		{"delete.retention.ms", &o.DeleteRetentionMs},
		{"flush.ms", &o.FlushMs},
		{"flush.bytes", &o.FlushBytes},
	}
	for _, c := range ints {
		if v, ok := topic[c.key]; ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return o, fmt.Errorf("%s=%q: not an integer", c.key, v)
			}
			*c.dst = n
		}
	}
	switch topic["cleanup.policy"] {
	case "compact", "compact,delete", "delete,compact":
		o.Compact = true
	case "delete":
		o.Compact = false
	}
	switch topic["write.caching"] {
	case "true":
		o.WriteCaching = true
	case "false":
		o.WriteCaching = false
	}
	if o.SegmentBytes < 1<<20 {
		o.PreallocBytes = 0
	}
	return o, o.Validate()
}
