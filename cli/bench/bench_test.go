package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	c := DefaultConfig()
	c.Brokers = []string{"127.0.0.1:9092"}
	c.Duration = 5 * time.Second
	return c
}

func TestConfigValidate(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	cases := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no brokers", func(c *Config) { c.Brokers = nil }, "--brokers"},
		{"records and duration", func(c *Config) { c.Records = 10 }, "not both"},
		{"neither records nor duration", func(c *Config) { c.Duration = 0 }, "one is needed"},
		{"record too small", func(c *Config) { c.RecordSize = HeaderSize - 1 }, "--record-size"},
		{"idempotent with acks=1", func(c *Config) { c.Acks = "1" }, "--idempotent needs --acks all"},
		{"bad acks", func(c *Config) { c.Acks = "2" }, "--acks"},
		{"bad compression", func(c *Config) { c.Compression = "brotli" }, "--compression"},
		{"warmup too long", func(c *Config) { c.Warmup = c.Duration }, "--warmup"},
		{"negative rate", func(c *Config) { c.Rate = -1 }, "--rate"},
		{"buffer below one record", func(c *Config) { c.MaxBufferedBytes = 100 }, "--max-buffered-bytes"},
		{"bad format", func(c *Config) { c.Format = "yaml" }, "--format"},
		{"no producers", func(c *Config) { c.Producers = 0 }, "--producers"},
	}
	for _, tc := range cases {
		c := validConfig()
		tc.mod(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", tc.name, err, tc.want)
		}
	}
	// Every problem is reported at once.
	c := validConfig()
	c.Acks, c.Format = "x", "y"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--acks") || !strings.Contains(err.Error(), "--format") {
		t.Errorf("want both errors, got %v", err)
	}
	// acks=0 is fine without idempotence.
	c = validConfig()
	c.Acks, c.Idempotent = "0", false
	if err := c.Validate(); err != nil {
		t.Errorf("acks=0 without idempotence refused: %v", err)
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	v := make([]byte, 64)
	putHeader(v, 7, 1<<40+3, 1_700_000_000_123_456_789)
	p, s, c, ok := parseHeader(v)
	if !ok || p != 7 || s != 1<<40+3 || c != 1_700_000_000_123_456_789 {
		t.Fatalf("got %d %d %d %v", p, s, c, ok)
	}
	if _, _, _, ok := parseHeader(v[:HeaderSize-1]); ok {
		t.Fatal("short value parsed")
	}
}

func TestSeenSetCountsDuplicates(t *testing.T) {
	s := newSeenSet()
	for _, seq := range []uint64{0, 1, 63, 64, 1000, 5} {
		if s.add(1, seq) {
			t.Fatalf("first sight of %d reported as duplicate", seq)
		}
	}
	if s.add(2, 1000) {
		t.Fatal("same sequence from another producer reported as duplicate")
	}
	for _, seq := range []uint64{0, 64, 1000} {
		if !s.add(1, seq) {
			t.Fatalf("second sight of %d not a duplicate", seq)
		}
	}
	if got := s.distinct(); got != 7 {
		t.Fatalf("distinct = %d, want 7", got)
	}
}

func TestLatencyPercentiles(t *testing.T) {
	h := newHistogram()
	for i := 1; i <= 1000; i++ {
		recordLatency(h, time.Duration(i)*time.Millisecond)
	}
	recordLatency(h, 0) // clamped to 1 µs, not dropped
	l := latencyOf(h)
	if l.Count != 1001 {
		t.Fatalf("count %d", l.Count)
	}
	near := func(got, want float64) bool { return got > want*0.99 && got < want*1.01 }
	if !near(l.P50, 500) || !near(l.P99, 990) || !near(l.P999, 999) || !near(l.Max, 1000) {
		t.Fatalf("percentiles %+v", l)
	}
}

func TestReportFormats(t *testing.T) {
	r := &Report{
		Topic: "t", RecordSize: 1024, Producers: 1, Consumers: 1, Seconds: 2,
		Records: 2000, Bytes: 2_048_000, RecordsPerSec: 1000, MBPerSec: 1.024,
		Produce:  Latency{Count: 2000, P50: 0.5, P99: 2.25, P999: 12.5, Max: 150},
		EndToEnd: &Latency{Count: 2000, P50: 1, P99: 3, P999: 4, Max: 5},
		Consumed: 2000, Duplicates: 1,
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1000 records/s", "1.02 MB/s", "p50 0.500  p99 2.25  p99.9 12.5  max 150 ms", "duplicates 1", "errors       0"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"records_per_sec", "mb_per_sec", "produce_latency", "end_to_end_latency", "errors", "duplicates", "missing"} {
		if _, ok := m[k]; !ok {
			t.Errorf("json lacks %q", k)
		}
	}
	if p := m["produce_latency"].(map[string]any); p["p99_9_ms"] != 12.5 {
		t.Errorf("p99.9 = %v", p["p99_9_ms"])
	}
	r.EndToEnd = nil
	js.Reset()
	r.WriteJSON(&js)
	if strings.Contains(js.String(), "end_to_end") {
		t.Error("end-to-end figures printed without consumers")
	}
}
