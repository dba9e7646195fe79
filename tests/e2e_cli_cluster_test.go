package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cluster health, and cluster config get/set/export/import/edit with their
// bad-input cases.
func TestE2ECLICluster(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	c := newCLI(t, n)

	t.Run("health", func(t *testing.T) {
		c := c.in(t)
		out := c.ok("cluster", "health")
		if !strings.Contains(out, "Healthy:") || !strings.Contains(out, "true") {
			t.Fatalf("health:\n%s", out)
		}
		var h struct {
			Healthy bool    `json:"is_healthy"`
			Nodes   []int32 `json:"all_nodes"`
		}
		if err := json.Unmarshal([]byte(c.ok("cluster", "health", "--format", "json")), &h); err != nil {
			t.Fatal(err)
		}
		if !h.Healthy || len(h.Nodes) != 1 {
			t.Fatalf("health json: %+v", h)
		}
	})

	t.Run("get-set", func(t *testing.T) {
		c := c.in(t)
		if got := strings.TrimSpace(c.ok("cluster", "config", "get", "default_topic_partitions")); got != "1" {
			t.Fatalf("default_topic_partitions = %q", got)
		}
		c.ok("cluster", "config", "set", "default_topic_partitions", "3")
		if got := strings.TrimSpace(c.ok("cluster", "config", "get", "default_topic_partitions")); got != "3" {
			t.Fatalf("after set: %q", got)
		}
		// The new default reaches topic creation.
		c.ok("topic", "create", "three")
		if d := describeTopic(t, c, "three"); len(d.Partitions) != 3 {
			t.Fatalf("topic created with %d partitions, want the new default 3", len(d.Partitions))
		}
		c.fails([]string{"default_topic_partitions"}, "cluster", "config", "set", "default_topic_partitions", "many")
		c.fails([]string{"default_topic_partitions"}, "cluster", "config", "set", "default_topic_partitions", "0")
		c.fails([]string{"unknown cluster property", `did you mean "default_topic_partitions"`}, "cluster", "config", "set", "default_topic_partition", "2")
		c.fails([]string{"unknown property", "ailurus cluster config export"}, "cluster", "config", "get", "no_such_property")
	})

	t.Run("export-import", func(t *testing.T) {
		c := c.in(t)
		file := filepath.Join(t.TempDir(), "cluster.yaml")
		c.ok("cluster", "config", "export", "-f", file)
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "default_topic_partitions: 3\n") {
			t.Fatalf("export lacks the set value:\n%s", data)
		}
		if out := c.ok("cluster", "config", "import", "-f", file); !strings.Contains(out, "No changes") {
			t.Fatalf("re-import of an export changed something:\n%s", out)
		}
		// Change one value, drop another line: set and reset to default.
		edited := strings.Replace(string(data), "group_initial_rebalance_delay: 3000\n", "group_initial_rebalance_delay: 2000\n", 1)
		edited = strings.Replace(edited, "default_topic_partitions: 3\n", "", 1)
		os.WriteFile(file, []byte(edited), 0o644)
		out := c.ok("cluster", "config", "import", "-f", file, "--dry")
		if !strings.Contains(out, "group_initial_rebalance_delay") || !strings.Contains(out, "Dry run") {
			t.Fatalf("dry import:\n%s", out)
		}
		if got := strings.TrimSpace(c.ok("cluster", "config", "get", "group_initial_rebalance_delay")); got != "3000" {
			t.Fatalf("--dry applied: %q", got)
		}
		out = c.ok("cluster", "config", "import", "-f", file)
		if !strings.Contains(out, "group_initial_rebalance_delay") || !strings.Contains(out, "default_topic_partitions") {
			t.Fatalf("import:\n%s", out)
		}
		if got := strings.TrimSpace(c.ok("cluster", "config", "get", "group_initial_rebalance_delay")); got != "2000" {
			t.Fatalf("after import group_initial_rebalance_delay = %q", got)
		}
		if got := strings.TrimSpace(c.ok("cluster", "config", "get", "default_topic_partitions")); got != "1" {
			t.Fatalf("dropped line not reset to default: %q", got)
		}
		// An invalid value refuses the whole file.
		os.WriteFile(file, []byte("group_initial_rebalance_delay: 1000\nfetch_max_bytes: -5\n"), 0o644)
		c.fails([]string{"fetch_max_bytes", "nothing was changed"}, "cluster", "config", "import", "-f", file)
		if got := strings.TrimSpace(c.ok("cluster", "config", "get", "group_initial_rebalance_delay")); got != "2000" {
			t.Fatalf("refused import applied part: %q", got)
		}
		os.WriteFile(file, []byte("- not\n- a map\n"), 0o644)
		c.fails([]string{"not a YAML map"}, "cluster", "config", "import", "-f", file)
		c.fails([]string{"-f FILE"}, "cluster", "config", "import")
		c.fails([]string{"no such file"}, "cluster", "config", "import", "-f", filepath.Join(t.TempDir(), "missing.yaml"))
	})

	t.Run("edit", func(t *testing.T) {
		c := c.in(t)
		script := filepath.Join(t.TempDir(), "editor.sh")
		os.WriteFile(script, []byte("#!/bin/sh\nsed -i 's/^default_topic_partitions: .*/default_topic_partitions: 5/' \"$1\"\n"), 0o755)
		c.env = []string{"EDITOR=" + script}
		out := c.ok("cluster", "config", "edit")
		if !strings.Contains(out, "default_topic_partitions") {
			t.Fatalf("edit output:\n%s", out)
		}
		if got := strings.TrimSpace(c.ok("cluster", "config", "get", "default_topic_partitions")); got != "5" {
			t.Fatalf("after edit: %q", got)
		}
		c.env = []string{"EDITOR=true"}
		if out := c.ok("cluster", "config", "edit"); !strings.Contains(out, "No changes") {
			t.Fatalf("untouched edit:\n%s", out)
		}
		c.env = []string{"EDITOR=false"}
		c.fails([]string{"nothing was changed"}, "cluster", "config", "edit")
		c.env = nil
		c.fails([]string{"$EDITOR"}, "cluster", "config", "edit")
		bad := filepath.Join(t.TempDir(), "bad.sh")
		os.WriteFile(bad, []byte("#!/bin/sh\necho 'default_topic_partitions: lots' > \"$1\"\n"), 0o755)
		c.env = []string{"EDITOR=" + bad}
		c.fails([]string{"default_topic_partitions"}, "cluster", "config", "edit")
		c.env = nil
		if got := strings.TrimSpace(c.ok("cluster", "config", "get", "default_topic_partitions")); got != "5" {
			t.Fatalf("refused edit changed the value: %q", got)
		}
	})

	t.Run("status", func(t *testing.T) {
		c := c.in(t)
		if out := c.ok("cluster", "config", "status"); !strings.HasPrefix(out, "NODE") {
			t.Fatalf("status:\n%s", out)
		}
	})
}
