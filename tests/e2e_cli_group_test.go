package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// consume -g commits what it prints; group list/describe/seek/delete.
func TestE2ECLIGroup(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	c := newCLI(t, n)
	c.ok("topic", "create", "orders", "-p", "2")
	var in strings.Builder
	for i := range 10 {
		fmt.Fprintf(&in, "o%d\n", i)
	}
	c.stdin = strings.NewReader(in.String())
	c.ok("topic", "produce", "orders")

	first := c.ok("topic", "consume", "orders", "-g", "readers", "-n", "4", "-f", `%v\n`)
	rest := c.ok("topic", "consume", "orders", "-g", "readers", "-n", "6", "-f", `%v\n`)
	seen := map[string]bool{}
	for _, v := range strings.Fields(first + rest) {
		if seen[v] {
			t.Fatalf("%s read twice by the group:\nfirst %q\nrest %q", v, first, rest)
		}
		seen[v] = true
	}
	if len(seen) != 10 {
		t.Fatalf("group read %d distinct records, want 10", len(seen))
	}

	if out := c.ok("group", "list"); !strings.Contains(out, "readers") {
		t.Fatalf("group list:\n%s", out)
	}
	lag := func() int64 {
		t.Helper()
		var gs []struct {
			TotalLag   int64 `json:"total_lag"`
			Partitions []struct {
				Lag int64 `json:"lag"`
			} `json:"partitions"`
		}
		if err := json.Unmarshal([]byte(c.ok("group", "describe", "readers", "--format", "json")), &gs); err != nil {
			t.Fatal(err)
		}
		if len(gs) != 1 || len(gs[0].Partitions) != 2 {
			t.Fatalf("describe: %+v", gs)
		}
		return gs[0].TotalLag
	}
	if l := lag(); l != 0 {
		t.Fatalf("lag after reading everything: %d", l)
	}
	c.ok("group", "seek", "readers", "--to", "start")
	if l := lag(); l != 10 {
		t.Fatalf("lag after seek to start: %d", l)
	}
	if out := c.ok("group", "describe", "readers"); !strings.Contains(out, "TOTAL-LAG") || !strings.Contains(out, "CURRENT-OFFSET") {
		t.Fatalf("describe text:\n%s", out)
	}

	// offset-delete drops partition 0's commit: its lag is then unknown.
	c.ok("group", "offset-delete", "readers", "--topic", "orders:0")
	var gs []struct {
		Partitions []struct {
			Partition int32 `json:"partition"`
			Committed int64 `json:"current_offset"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal([]byte(c.ok("group", "describe", "readers", "--format", "json")), &gs); err != nil {
		t.Fatal(err)
	}
	for _, p := range gs[0].Partitions {
		if p.Partition == 0 && p.Committed >= 0 {
			t.Fatalf("partition 0 still committed at %d after offset-delete", p.Committed)
		}
	}
	c.fails([]string{"--topic"}, "group", "offset-delete", "readers")
	c.fails([]string{"partitions are numbers"}, "group", "offset-delete", "readers", "--topic", "orders:x")

	// Bad input.
	c.fails([]string{"with -g, -o is start or end"}, "topic", "consume", "orders", "-g", "readers", "-o", "5")
	c.fails([]string{"-p cannot be used with -g"}, "topic", "consume", "orders", "-g", "readers", "-p", "0")
	c.fails([]string{"topic nope does not exist"}, "topic", "consume", "nope", "-g", "readers")
	c.fails([]string{"exactly one of --to"}, "group", "seek", "readers")
	c.fails([]string{"--to \"yesterday\""}, "group", "seek", "readers", "--to", "yesterday")
	c.fails([]string{"group does not exist", "ailurus group list"}, "group", "describe", "nobody")

	c.ok("group", "delete", "readers")
	if out := c.ok("group", "list"); strings.Contains(out, "readers") {
		t.Fatalf("deleted group still listed:\n%s", out)
	}
	c.fails([]string{"nobody"}, "group", "delete", "nobody")
}
