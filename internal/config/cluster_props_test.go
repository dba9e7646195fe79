package config

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// The table is the contract the admin API relies on: check it is coherent.
func TestClusterPropertyTable(t *testing.T) {
	props := ClusterProperties()
	names := clusterPropNames()
	if !slices.IsSorted(names) {
		t.Errorf("table is not sorted by name: %v", names)
	}
	if len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("duplicate names in %v", names)
	}
	for _, p := range props {
		if p.Description == "" {
			t.Errorf("%s has no description", p.Name)
		}
		if p.Type < TypeBool || p.Type > TypeEnum {
			t.Errorf("%s has type %v", p.Name, p.Type)
		}
		if (p.Type == TypeEnum) != (len(p.Enum) > 0) {
			t.Errorf("%s: type %v with enum %v", p.Name, p.Type, p.Enum)
		}
		if p.Default == nil && !p.Nullable {
			t.Errorf("%s: null default but not nullable", p.Name)
		}
		got, err := ParseClusterProperty(p.Name, p.Default)
		if err != nil {
			t.Errorf("%s: its default %#v does not validate: %v", p.Name, p.Default, err)
		} else if got != p.Default {
			t.Errorf("%s: default %#v is not canonical (parses to %#v)", p.Name, p.Default, got)
		}
	}
}

// The issue names these, with these defaults (Redpanda's).
func TestClusterPropertyDefaults(t *testing.T) {
	want := map[string]any{
		"auto_create_topics_enabled":         false,
		"default_topic_partitions":           int64(1),
		"default_topic_replications":         int64(1),
		"log_segment_size":                   int64(128 << 20),
		"log_segment_ms":                     int64(14 * 24 * 3600 * 1000),
		"log_retention_ms":                   int64(7 * 24 * 3600 * 1000),
		"retention_bytes":                    nil,
		"log_cleanup_policy":                 "delete",
		"kafka_request_max_bytes":            int64(100 << 20),
		"kafka_batch_max_bytes":              int64(1 << 20),
		"write_caching_default":              "false",
		"raft_heartbeat_interval_ms":         int64(150),
		"group_topic_partitions":             int64(16),
		"transaction_coordinator_partitions": int64(16),
		"log_compression_type":               "producer",
	}
	for name, w := range want {
		p, ok := LookupClusterProperty(name)
		if !ok {
			t.Errorf("%s is missing", name)
			continue
		}
		if p.Default != w {
			t.Errorf("%s default = %#v, want %#v", name, p.Default, w)
		}
	}
}

func TestValidateClusterProperty(t *testing.T) {
	cases := []struct {
		name  string
		value any
		want  error // nil: accepted
	}{
		{"auto_create_topics_enabled", true, nil},
		{"auto_create_topics_enabled", "false", nil}, // rpk sends strings
		{"auto_create_topics_enabled", 1, ErrWrongType},
		{"auto_create_topics_enabled", "yes", ErrWrongType},
		{"auto_create_topics_enabled", nil, ErrWrongType},
		{"default_topic_partitions", 12, nil},
		{"default_topic_partitions", float64(12), nil}, // JSON
		{"default_topic_partitions", json.Number("12"), nil},
		{"default_topic_partitions", 12.5, ErrWrongType},
		{"default_topic_partitions", "12x", ErrWrongType},
		{"default_topic_partitions", []any{1}, ErrWrongType},
		{"default_topic_partitions", 0, ErrInvalidValue},
		{"default_topic_partitions", int64(1) << 31, ErrInvalidValue},
		{"default_topic_replications", 3, nil},
		{"default_topic_replications", 2, ErrInvalidValue},
		{"log_segment_size", 1 << 20, nil},
		{"log_segment_size", 1<<20 - 1, ErrInvalidValue},
		{"log_segment_ms", nil, nil},
		{"log_segment_ms", 1000, ErrInvalidValue},
		{"log_retention_ms", -1, nil},
		{"log_retention_ms", nil, nil},
		{"log_retention_ms", 0, nil},
		{"log_retention_ms", -2, ErrInvalidValue},
		{"retention_bytes", -1, nil},
		{"retention_bytes", uint64(1) << 40, nil},
		{"retention_bytes", uint64(1) << 63, ErrWrongType},
		{"retention_bytes", -7, ErrInvalidValue},
		{"log_cleanup_policy", "compact", nil},
		{"log_cleanup_policy", "delete,compact", nil},
		{"log_cleanup_policy", "shred", ErrInvalidValue},
		{"log_cleanup_policy", 3, ErrWrongType},
		{"log_compression_type", "zstd", ErrInvalidValue},
		{"write_caching_default", "disabled", nil},
		{"write_caching_default", true, nil},
		{"write_caching_default", "on", ErrInvalidValue},
		{"log_message_timestamp_type", "LogAppendTime", nil},
		{"no_such_property", 1, ErrUnknownProperty},
		{"", 1, ErrUnknownProperty},
	}
	for _, tc := range cases {
		err := ValidateClusterProperty(tc.name, tc.value)
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s = %#v: rejected: %v", tc.name, tc.value, err)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s = %#v: error %v, want %v", tc.name, tc.value, err, tc.want)
		}
	}
}

func TestParseClusterPropertyCanonical(t *testing.T) {
	cases := []struct {
		name     string
		in, want any
	}{
		{"default_topic_partitions", 3, int64(3)},
		{"default_topic_partitions", float64(3), int64(3)},
		{"default_topic_partitions", " 3", int64(3)},
		{"auto_create_topics_enabled", "TRUE", true},
		{"log_cleanup_policy", "delete, compact", "compact,delete"},
		{"write_caching_default", false, "false"},
		{"retention_bytes", nil, nil},
	}
	for _, tc := range cases {
		got, err := ParseClusterProperty(tc.name, tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Parse(%s, %#v) = %#v, %v; want %#v", tc.name, tc.in, got, err, tc.want)
		}
	}
}

func TestClusterPropertiesIsACopy(t *testing.T) {
	ps := ClusterProperties()
	for i := range ps {
		if ps[i].Name == "log_cleanup_policy" {
			ps[i].Enum[0] = "shred"
			ps[i].Aliases["x"] = "y"
		}
		ps[i].Default = "changed"
	}
	p, _ := LookupClusterProperty("log_cleanup_policy")
	if p.Enum[0] != "delete" || p.Aliases["x"] != "" || p.Default != "delete" {
		t.Errorf("changing the returned table changed the table: %+v", p)
	}
}
