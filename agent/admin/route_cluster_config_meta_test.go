package admin

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/ailurus/ailurus/internal/config"
	"github.com/ailurus/ailurus/internal/metadata"
)

func TestClusterConfigStatus(t *testing.T) {
	env := runServer(t, nil)
	env.cluster.set(func(f *fakeCluster) {
		st := f.state.WithClusterConfig(metadata.ClusterConfig{
			"log_retention_ms":  "3600000",
			"log_segment_size":  "big",       // unreadable: invalid
			"future_knob":       "1",         // unknown to this binary
			"retention_bytes":   "null",      // null of a nullable: fine
			"another_new_thing": "something", // unknown
		})
		st.Version = 12
		f.state = st
	})
	var got []configStatus
	env.get("/v1/cluster_config/status").expect(t, http.StatusOK, &got)
	want := []configStatus{{
		NodeID: localNode, ConfigVersion: 12,
		Invalid: []string{"log_segment_size"},
		Unknown: []string{"another_new_thing", "future_knob"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("status %+v, want %+v", got, want)
	}
	// An unreadable stored value shows as its raw text in GET.
	var cfg map[string]any
	env.get("/v1/cluster_config?key=log_segment_size").expect(t, http.StatusOK, &cfg)
	if cfg["log_segment_size"] != "big" {
		t.Fatalf("unreadable value shown as %#v", cfg["log_segment_size"])
	}
}

func TestClusterConfigSchema(t *testing.T) {
	env := runServer(t, nil)
	var got struct {
		Properties map[string]propertySchema `json:"properties"`
	}
	env.get("/v1/cluster_config/schema").expect(t, http.StatusOK, &got)
	if len(got.Properties) != len(config.ClusterProperties()) {
		t.Fatalf("schema has %d properties, want %d", len(got.Properties), len(config.ClusterProperties()))
	}
	checks := map[string]func(p propertySchema) bool{
		"log_retention_ms":           func(p propertySchema) bool { return p.Type == "integer" && p.Units == "ms" && p.Nullable },
		"log_segment_size":           func(p propertySchema) bool { return p.Type == "integer" && p.Units == "bytes" && !p.Nullable },
		"auto_create_topics_enabled": func(p propertySchema) bool { return p.Type == "boolean" && p.Default == false },
		"log_cleanup_policy": func(p propertySchema) bool {
			return p.Type == "string" && reflect.DeepEqual(p.EnumValues, []string{"delete", "compact", "compact,delete"})
		},
		"default_topic_partitions": func(p propertySchema) bool {
			return p.Type == "integer" && p.Units == "" && p.Default == 1.0 && p.Description != "" && p.Visibility == "user"
		},
	}
	for name, ok := range checks {
		if p, found := got.Properties[name]; !found || !ok(p) {
			t.Errorf("schema of %s: %+v", name, p)
		}
	}
}
