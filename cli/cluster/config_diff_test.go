package cluster

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestDiffConfig(t *testing.T) {
	current := map[string]any{
		"a": json.Number("1"), "b": true, "c": "delete", "d": json.Number("604800000"), "n": nil,
	}
	set := map[string]any{"d": json.Number("604800000"), "c": "delete"}
	desired := map[string]any{"a": 1, "b": false, "d": 604800000, "n": nil, "new": "x"}
	upsert, remove, changes := diffConfig(current, set, desired)
	if len(upsert) != 2 || upsert["b"] != false || upsert["new"] != "x" {
		t.Fatalf("upsert %v", upsert)
	}
	if !slices.Equal(remove, []string{"c"}) {
		t.Fatalf("remove %v", remove)
	}
	if len(changes) != 3 {
		t.Fatalf("changes %v", changes)
	}
}

// Export then import of the same values is no change at all.
func TestYAMLRoundTrip(t *testing.T) {
	current := map[string]any{"a": json.Number("57671680"), "b": true, "c": "delete", "n": nil}
	data, err := encodeYAML(current)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "a: 57671680\n") {
		t.Fatalf("numbers not plain in YAML:\n%s", data)
	}
	desired, err := decodeYAML(data)
	if err != nil {
		t.Fatal(err)
	}
	upsert, remove, _ := diffConfig(current, current, desired)
	if len(upsert) != 0 || len(remove) != 0 {
		t.Fatalf("round trip changed: %v %v\n%s", upsert, remove, data)
	}
	if _, err := decodeYAML([]byte("- a\n- b\n")); err == nil {
		t.Fatal("a YAML list accepted as a config")
	}
}
