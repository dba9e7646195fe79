package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cliResult is one run of the built binary as an operator command.
type cliResult struct {
	Stdout, Stderr string
	Code           int
	Took           time.Duration
}

// cliRunner runs `ailurus ARGS` against a node, with a clean HOME (no
// profile) and no AILURUS_* environment unless the test sets it.
type cliRunner struct {
	t     *testing.T
	node  *Node
	home  string
	env   []string
	stdin io.Reader
}

func newCLI(t *testing.T, n *Node) *cliRunner {
	return &cliRunner{t: t, node: n, home: t.TempDir()}
}

// in returns a runner reporting to t (a subtest), sharing everything else.
func (c *cliRunner) in(t *testing.T) *cliRunner {
	cp := *c
	cp.t = t
	return &cp
}

// connFlags point a command at the node.
func (c *cliRunner) connFlags() []string {
	if c.node == nil {
		return nil
	}
	return []string{"--brokers", c.node.Kafka, "--admin-url", c.node.AdminURL}
}

// run runs a command with the node's connection flags appended.
func (c *cliRunner) run(args ...string) cliResult {
	c.t.Helper()
	return c.runRaw(append(args, c.connFlags()...)...)
}

// runRaw runs a command as given.
func (c *cliRunner) runRaw(args ...string) cliResult {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	env := []string{"HOME=" + c.home, "PATH=" + os.Getenv("PATH")}
	cmd.Env = append(env, c.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Stdin = c.stdin
	c.stdin = nil
	start := time.Now()
	err := cmd.Run()
	res := cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Took: time.Since(start)}
	if ctx.Err() != nil {
		c.t.Fatalf("ailurus %s: still running after 90s\nstderr: %s", strings.Join(args, " "), res.Stderr)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		res.Code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("ailurus %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// ok runs a command that must succeed and returns its stdout.
func (c *cliRunner) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.Code != 0 {
		c.t.Fatalf("ailurus %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// fails runs a command that must fail with a message holding every want.
func (c *cliRunner) fails(wants []string, args ...string) cliResult {
	c.t.Helper()
	r := c.run(args...)
	if r.Code == 0 {
		c.t.Fatalf("ailurus %s: succeeded, want failure\nstdout: %s", strings.Join(args, " "), r.Stdout)
	}
	for _, w := range wants {
		if !strings.Contains(r.Stderr, w) {
			c.t.Fatalf("ailurus %s: stderr lacks %q:\n%s", strings.Join(args, " "), w, r.Stderr)
		}
	}
	return r
}

// flightLines makes n JSON documents shaped like flights-data.json.
func flightLines(n int) []string {
	carriers := []string{"WN", "AS", "DL", "UA", "AA", "B6"}
	airports := []struct{ code, city, state string }{
		{"SAN", "San Diego, CA", "California"}, {"JFK", "New York, NY", "New York"},
		{"SFO", "San Francisco, CA", "California"}, {"DEN", "Denver, CO", "Colorado"},
		{"PHX", "Phoenix, AZ", "Arizona"}, {"LAX", "Los Angeles, CA", "California"},
	}
	lines := make([]string, n)
	for i := range lines {
		o, d := airports[i%len(airports)], airports[(i*7+1)%len(airports)]
		day := 1 + i%28
		doc := map[string]any{
			"Year": 2013 + i%4, "Month": 1 + i%12, "DayofMonth": day,
			"FlightDate": fmt.Sprintf("%d-%02d-%02d", 2013+i%4, 1+i%12, day),
			"Carrier":    carriers[i%len(carriers)], "FlightNum": 1000 + i,
			"Origin": o.code, "OriginCityName": o.city, "OriginStateName": o.state,
			"Dest": d.code, "DestCityName": d.city, "DestStateName": d.state,
			"AirTime": 60 + i%300, "Distance": 200 + (i*37)%2500,
			"DepDelay": i%97 - 10, "ArrDelay": i%89 - 30, "Cancelled": i % 50 / 49,
		}
		b, _ := json.Marshal(doc)
		lines[i] = string(b)
	}
	return lines
}

// The README's getting-started scenario, through the built binary: create
// a topic, produce a file of JSON documents, consume them back exactly.
func TestE2ECLIGettingStarted(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	c := newCLI(t, n)

	out := c.ok("topic", "create", "flights")
	if !strings.Contains(out, "flights") || !strings.Contains(out, "OK") {
		t.Fatalf("create output:\n%s", out)
	}

	lines := flightLines(2000)
	data := strings.Join(lines, "\n") + "\n"
	file := filepath.Join(t.TempDir(), "flights-data.json")
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c.stdin = f
	r := c.run("topic", "produce", "flights")
	if r.Code != 0 {
		t.Fatalf("produce: exit %d: %s", r.Code, r.Stderr)
	}
	if r.Stdout != "" {
		t.Errorf("produce wrote to stdout: %q", r.Stdout)
	}
	// stderr is not a terminal here: the summary only, no progress.
	if !strings.Contains(r.Stderr, "produced 2000 records to flights") || strings.Contains(r.Stderr, "\r") {
		t.Errorf("produce summary: %q", r.Stderr)
	}

	r = c.run("topic", "consume", "flights", "-n", "2000", "-f", `%v\n`)
	if r.Code != 0 {
		t.Fatalf("consume: exit %d: %s", r.Code, r.Stderr)
	}
	if r.Stdout != data {
		got := strings.Split(r.Stdout, "\n")
		t.Fatalf("consumed %d lines, want 2000 identical; first: %q", len(got)-1, got[0])
	}
	if r.Stderr != "" {
		t.Errorf("consume into a pipe wrote to stderr: %q", r.Stderr)
	}

	// Default output: one JSON object per record with rpk's fields.
	out = c.ok("topic", "consume", "flights", "-o", "-2", "-n", "2")
	recs := strings.Split(strings.TrimSpace(out), "\n")
	if len(recs) != 2 {
		t.Fatalf("-o -2 gave %d records:\n%s", len(recs), out)
	}
	var rec struct {
		Topic     string  `json:"topic"`
		Value     string  `json:"value"`
		Timestamp int64   `json:"timestamp"`
		Partition *int32  `json:"partition"`
		Offset    int64   `json:"offset"`
		Key       *string `json:"key"`
	}
	if err := json.Unmarshal([]byte(recs[1]), &rec); err != nil {
		t.Fatalf("default output is not JSON: %v\n%s", err, recs[1])
	}
	if rec.Topic != "flights" || rec.Value != lines[1999] || rec.Offset != 1999 || rec.Partition == nil || rec.Timestamp <= 0 {
		t.Fatalf("last record: %+v", rec)
	}

	// describe shows the offsets; list and cluster info the topic.
	var desc []struct {
		Name       string `json:"name"`
		Partitions []struct {
			HighWatermark int64 `json:"high_watermark"`
			Leader        int32 `json:"leader"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal([]byte(c.ok("topic", "describe", "flights", "--format", "json")), &desc); err != nil {
		t.Fatal(err)
	}
	if len(desc) != 1 || len(desc[0].Partitions) != 1 || desc[0].Partitions[0].HighWatermark != 2000 || desc[0].Partitions[0].Leader < 0 {
		t.Fatalf("describe: %+v", desc)
	}
	text := c.ok("topic", "describe", "flights")
	for _, w := range []string{"PARTITIONS", "HIGH-WATERMARK", "2000", "CONFIGS"} {
		if !strings.Contains(text, w) {
			t.Fatalf("describe text lacks %q:\n%s", w, text)
		}
	}
	if out := c.ok("topic", "list"); !strings.Contains(out, "flights") || !strings.HasPrefix(out, "NAME") {
		t.Fatalf("list:\n%s", out)
	}
	var info struct {
		Controller int32 `json:"controller"`
		Brokers    []struct {
			ID int32 `json:"id"`
		} `json:"brokers"`
		Topics []struct {
			Name string `json:"name"`
		} `json:"topics"`
	}
	if err := json.Unmarshal([]byte(c.ok("cluster", "info", "--format", "json")), &info); err != nil {
		t.Fatal(err)
	}
	if len(info.Brokers) == 0 || info.Controller < 0 || len(info.Topics) == 0 || info.Topics[0].Name != "flights" {
		t.Fatalf("cluster info: %+v", info)
	}
}

// Where commands connect: flags > -X > environment > profile file.
func TestE2ECLIConnectionPrecedence(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	c := newCLI(t, n)
	profile := filepath.Join(c.home, ".config", "ailurus", "profile.yaml")
	os.MkdirAll(filepath.Dir(profile), 0o755)
	body := fmt.Sprintf("brokers: [%s]\nadmin: [%s]\n", n.Kafka, n.AdminURL)
	if err := os.WriteFile(profile, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	dead := "127.0.0.1:1"
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		ok   bool
	}{
		{"profile alone", nil, nil, true},
		{"env over profile", []string{"AILURUS_BROKERS=" + dead}, nil, false},
		{"-X over env", []string{"AILURUS_BROKERS=" + dead}, []string{"-X", "brokers=" + n.Kafka}, true},
		{"flag over -X", nil, []string{"-X", "brokers=" + n.Kafka, "--brokers", dead}, false},
		{"flag over env", []string{"AILURUS_BROKERS=" + dead}, []string{"--brokers", n.Kafka}, true},
	} {
		c.env = tc.env
		r := c.runRaw(append([]string{"topic", "list", "--timeout", "2s"}, tc.args...)...)
		if (r.Code == 0) != tc.ok {
			t.Errorf("%s: exit %d, want success %v; stderr %q", tc.name, r.Code, tc.ok, r.Stderr)
		}
	}
	c.env = []string{"AILURUS_ADMIN_HOSTS=" + dead}
	if r := c.runRaw("cluster", "health", "--timeout", "2s"); r.Code == 0 {
		t.Errorf("admin env did not override the profile")
	}
	c.env = nil
	if r := c.runRaw("cluster", "health"); r.Code != 0 {
		t.Errorf("health through the profile: %s", r.Stderr)
	}
	os.WriteFile(profile, []byte("brokers: [unclosed\n"), 0o644)
	if r := c.runRaw("topic", "list"); r.Code == 0 || !strings.Contains(r.Stderr, "bad profile") || !strings.Contains(r.Stderr, profile) {
		t.Errorf("broken profile: exit %d, stderr %q", r.Code, r.Stderr)
	}
}

// With no node at the address, commands fail within the timeout and say
// which address they tried and what to check.
func TestE2ECLIUnreachable(t *testing.T) {
	c := newCLI(t, nil)
	for _, args := range [][]string{
		{"topic", "list", "--brokers", "127.0.0.1:1", "--timeout", "2s"},
		{"topic", "consume", "flights", "-X", "brokers=127.0.0.1:1", "--timeout", "2s"},
		{"cluster", "info", "--brokers", "127.0.0.1:1", "--timeout", "2s"},
	} {
		r := c.runRaw(args...)
		if r.Code == 0 || !strings.Contains(r.Stderr, "cannot reach Kafka at 127.0.0.1:1") || !strings.Contains(r.Stderr, "ailurus start") {
			t.Errorf("%v: exit %d, stderr %q", args, r.Code, r.Stderr)
		}
		if r.Took > 8*time.Second {
			t.Errorf("%v: took %v with a 2s timeout", args, r.Took)
		}
	}
	// The environment is used when no flag is given.
	c.env = []string{"AILURUS_BROKERS=127.0.0.1:2"}
	if r := c.runRaw("topic", "list", "--timeout", "2s"); r.Code == 0 || !strings.Contains(r.Stderr, "127.0.0.1:2") {
		t.Errorf("env brokers: exit %d, stderr %q", r.Code, r.Stderr)
	}
	c.env = nil
	r := c.runRaw("cluster", "health", "--admin-url", "127.0.0.1:1", "--timeout", "2s")
	if r.Code == 0 || !strings.Contains(r.Stderr, "cannot reach the admin API") || !strings.Contains(r.Stderr, "http://127.0.0.1:1") {
		t.Errorf("health: exit %d, stderr %q", r.Code, r.Stderr)
	}
	if r := c.runRaw("topic", "list", "-X", "nonsense=1"); r.Code == 0 || !strings.Contains(r.Stderr, "unknown key") {
		t.Errorf("bad -X: exit %d, stderr %q", r.Code, r.Stderr)
	}
}
