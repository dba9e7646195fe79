package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// topicDesc is `topic describe --format json`, the parts tests check.
type topicDesc struct {
	Name       string `json:"name"`
	Partitions []struct {
		Partition     int32 `json:"partition"`
		LogStart      int64 `json:"log_start_offset"`
		HighWatermark int64 `json:"high_watermark"`
	} `json:"partitions"`
	Configs []struct {
		Key, Value, Source string
	} `json:"configs"`
}

func describeTopic(t *testing.T, c *cliRunner, name string) topicDesc {
	t.Helper()
	var ds []topicDesc
	if err := json.Unmarshal([]byte(c.ok("topic", "describe", name, "--format", "json")), &ds); err != nil {
		t.Fatal(err)
	}
	return ds[0]
}

func (d topicDesc) config(key string) string {
	for _, c := range d.Configs {
		if c.Key == key {
			return c.Value
		}
	}
	return ""
}

// Every topic verb, with its bad-input cases.
func TestE2ECLITopicVerbs(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	c := newCLI(t, n)
	missing := []string{"topic nope does not exist", "ailurus topic create nope"}

	t.Run("create", func(t *testing.T) {
		c := c.in(t)
		out := c.ok("topic", "create", "dry-one", "--dry")
		if !strings.Contains(out, "dry run") {
			t.Fatalf("--dry output:\n%s", out)
		}
		if strings.Contains(c.ok("topic", "list"), "dry-one") {
			t.Fatal("--dry created the topic")
		}
		c.ok("topic", "create", "events", "-p", "3", "-r", "1", "-c", "retention.ms=3600000")
		d := describeTopic(t, c, "events")
		if len(d.Partitions) != 3 || d.config("retention.ms") != "3600000" {
			t.Fatalf("events: %d partitions, retention.ms %q", len(d.Partitions), d.config("retention.ms"))
		}
		c.fails([]string{"TOPIC_ALREADY_EXISTS", "ailurus topic describe events"}, "topic", "create", "events")
		c.ok("topic", "create", "events", "--if-not-exists")
		c.fails([]string{"-c", "key=value"}, "topic", "create", "x", "-c", "retention.ms")
	})

	t.Run("describe-list", func(t *testing.T) {
		c := c.in(t)
		c.fails(missing, "topic", "describe", "nope")
		var ls []struct{ Name string }
		if err := json.Unmarshal([]byte(c.ok("topic", "list", "--format", "json")), &ls); err != nil {
			t.Fatal(err)
		}
		if len(ls) != 1 || ls[0].Name != "events" {
			t.Fatalf("list: %+v", ls)
		}
		c.fails([]string{"unknown format"}, "topic", "list", "--format", "xml")
		if out := c.ok("topic", "describe", "events", "-p"); !strings.Contains(out, "HIGH-WATERMARK") || strings.Contains(out, "CONFIGS") {
			t.Fatalf("describe -p:\n%s", out)
		}
	})

	t.Run("alter-config", func(t *testing.T) {
		c := c.in(t)
		c.ok("topic", "alter-config", "events", "--set", "retention.ms=7200000", "--set", "cleanup.policy=compact")
		d := describeTopic(t, c, "events")
		if d.config("retention.ms") != "7200000" || d.config("cleanup.policy") != "compact" {
			t.Fatalf("after --set: retention.ms %q cleanup.policy %q", d.config("retention.ms"), d.config("cleanup.policy"))
		}
		c.ok("topic", "alter-config", "events", "--delete", "cleanup.policy")
		if d := describeTopic(t, c, "events"); d.config("cleanup.policy") != "delete" {
			t.Fatalf("after --delete: cleanup.policy %q", d.config("cleanup.policy"))
		}
		c.fails([]string{"events"}, "topic", "alter-config", "events", "--set", "retention.ms=abc")
		c.fails(missing, "topic", "alter-config", "nope", "--set", "retention.ms=1000")
		c.fails([]string{"nothing to change"}, "topic", "alter-config", "events")
	})

	t.Run("add-partitions", func(t *testing.T) {
		c := c.in(t)
		c.ok("topic", "add-partitions", "events", "-n", "2")
		if d := describeTopic(t, c, "events"); len(d.Partitions) != 5 {
			t.Fatalf("%d partitions after adding 2 to 3", len(d.Partitions))
		}
		c.fails([]string{"must be positive"}, "topic", "add-partitions", "events", "-n", "0")
		c.fails(missing, "topic", "add-partitions", "nope", "-n", "1")
	})

	t.Run("produce-consume", func(t *testing.T) {
		c := c.in(t)
		c.ok("topic", "create", "kv", "-p", "2")
		var in strings.Builder
		for i := range 100 {
			fmt.Fprintf(&in, "k%d v%d\n", i, i)
		}
		c.stdin = strings.NewReader(in.String())
		c.ok("topic", "produce", "kv", "-p", "0", "-f", `%k %v\n`, "-H", "origin:test", "-z", "zstd", "--acks", "1")
		// Keys, values and headers come back through the format language.
		out := c.ok("topic", "consume", "kv", "-p", "0", "-n", "2", "-f", `%p %o %k=%v %h{%k:%v}\n`)
		if out != "0 0 k0=v0 origin:test\n0 1 k1=v1 origin:test\n" {
			t.Fatalf("formatted consume:\n%q", out)
		}
		// Offset specs: exact, +N, -N, N:M (exclusive), N:end. Open-ended
		// specs follow the partition, so -n bounds them.
		for _, tc := range []struct{ spec, n, want string }{
			{"10:13", "0", "v10 v11 v12"},
			{"97:end", "0", "v97 v98 v99"},
			{":3", "0", "v0 v1 v2"},
			{"+98", "2", "v98 v99"},
			{"-1", "1", "v99"},
			{"98", "2", "v98 v99"},
			{"start", "2", "v0 v1"},
		} {
			got := c.ok("topic", "consume", "kv", "-p", "0", "-o", tc.spec, "-n", tc.n, "-f", `%v `)
			if strings.TrimSpace(got) != tc.want {
				t.Errorf("-o %s: got %q, want %q", tc.spec, got, tc.want)
			}
		}
		// :end over both partitions stops at the current end by itself.
		if got := strings.Count(c.ok("topic", "consume", "kv", "-o", ":end", "-f", `%v\n`), "\n"); got != 100 {
			t.Errorf(":end read %d records, want 100", got)
		}
		// Timestamps: everything is newer than an hour ago, nothing is in the future.
		if got := strings.Count(c.ok("topic", "consume", "kv", "-o", "@-1h:end", "-f", `%v\n`), "\n"); got != 100 {
			t.Errorf("@-1h:end read %d records, want 100", got)
		}
		future := fmt.Sprint(time.Now().Add(time.Hour).UnixMilli())
		if out := c.ok("topic", "consume", "kv", "-o", "@"+future+":end"); out != "" {
			t.Errorf("@future:end printed %q", out)
		}
		// Tombstones: -Z makes an empty line a null value.
		c.stdin = strings.NewReader("\n")
		c.ok("topic", "produce", "kv", "-p", "1", "-Z", "-k", "gone")
		out = c.ok("topic", "consume", "kv", "-p", "1", "-o", "-1", "-n", "1")
		var rec map[string]any
		if err := json.Unmarshal([]byte(out), &rec); err != nil {
			t.Fatalf("%v: %q", err, out)
		}
		if v, ok := rec["value"]; !ok || v != nil || rec["key"] != "gone" {
			t.Fatalf("tombstone: %q", out)
		}
		c.ok("topic", "consume", "kv", "--read-committed", "-o", ":end", "-n", "1")
	})

	t.Run("produce-consume-bad-input", func(t *testing.T) {
		c := c.in(t)
		c.stdin = strings.NewReader("x\n")
		c.fails(missing, "topic", "produce", "nope")
		c.fails(missing, "topic", "consume", "nope")
		c.fails([]string{"bad format string"}, "topic", "consume", "kv", "-f", "%T{hex")
		c.stdin = strings.NewReader("x\n")
		c.fails([]string{"bad format string"}, "topic", "produce", "kv", "-f", "%v{nope}")
		for _, spec := range []string{"begin", "5:2", "@yesterday", "+x"} {
			c.fails([]string{"bad offset", spec, "@T1:T2"}, "topic", "consume", "kv", "-o", spec)
		}
		c.fails([]string{"partition 7 does not exist", "kv has 2 partitions"}, "topic", "consume", "kv", "-p", "7")
		c.stdin = strings.NewReader("x\n")
		c.fails([]string{"unknown compression"}, "topic", "produce", "kv", "-z", "brotli")
		c.stdin = strings.NewReader("x\n")
		c.fails([]string{"--acks 2"}, "topic", "produce", "kv", "--acks", "2")
		c.stdin = strings.NewReader("x\n")
		c.fails([]string{"-H", "key:value"}, "topic", "produce", "kv", "-H", "noval")
	})

	t.Run("trim-prefix", func(t *testing.T) {
		c := c.in(t)
		c.ok("topic", "trim-prefix", "kv", "-p", "0", "-o", "40")
		d := describeTopic(t, c, "kv")
		if d.Partitions[0].LogStart != 40 {
			t.Fatalf("log start after trim: %d", d.Partitions[0].LogStart)
		}
		if got := strings.TrimSpace(c.ok("topic", "consume", "kv", "-p", "0", "-n", "1", "-f", `%o`)); got != "40" {
			t.Fatalf("first offset after trim: %q", got)
		}
		c.fails([]string{"OFFSET_OUT_OF_RANGE"}, "topic", "trim-prefix", "kv", "-p", "0", "-o", "5000")
		c.fails([]string{"-o"}, "topic", "trim-prefix", "kv")
		c.fails(missing, "topic", "trim-prefix", "nope", "-o", "1")
	})

	t.Run("delete", func(t *testing.T) {
		c := c.in(t)
		c.ok("topic", "create", "tmp-a", "tmp-b")
		c.fails([]string{"bad regular expression"}, "topic", "delete", "-r", "(")
		c.fails([]string{"no topic matches"}, "topic", "delete", "-r", "^zzz")
		c.ok("topic", "delete", "-r", "^tmp-")
		c.ok("topic", "delete", "events")
		list := c.ok("topic", "list")
		if strings.Contains(list, "tmp-") || strings.Contains(list, "events") || !strings.Contains(list, "kv") {
			t.Fatalf("after delete:\n%s", list)
		}
		c.fails([]string{"topic nope does not exist", "ailurus topic list"}, "topic", "delete", "nope")
	})
}
