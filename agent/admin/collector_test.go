package admin

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ailurus/ailurus/internal/bus"
)

// shardText is a shard's push as its registry would render it: request
// counts and latency by API, bytes in and out.
func shardText(produce, fetch int, in, out int) string {
	return fmt.Sprintf(`# HELP ailurus_kafka_requests_total Kafka requests handled.
# TYPE ailurus_kafka_requests_total counter
ailurus_kafka_requests_total{api="produce"} %d
ailurus_kafka_requests_total{api="fetch"} %d
# HELP ailurus_kafka_request_latency_seconds Kafka request latency.
# TYPE ailurus_kafka_request_latency_seconds histogram
ailurus_kafka_request_latency_seconds_bucket{api="produce",le="0.001"} %d
ailurus_kafka_request_latency_seconds_bucket{api="produce",le="+Inf"} %d
ailurus_kafka_request_latency_seconds_sum{api="produce"} 0.5
ailurus_kafka_request_latency_seconds_count{api="produce"} %d
# HELP ailurus_kafka_bytes_in_total Record batch bytes produced.
# TYPE ailurus_kafka_bytes_in_total counter
ailurus_kafka_bytes_in_total %d
# HELP ailurus_kafka_bytes_out_total Record batch bytes fetched.
# TYPE ailurus_kafka_bytes_out_total counter
ailurus_kafka_bytes_out_total %d
`, produce, fetch, produce/2, produce, produce, in, out)
}

// parseExposition parses a text exposition into families by name.
func parseExposition(t *testing.T, text []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("parse exposition: %v\n%s", err, text)
	}
	return fams
}

// sample finds the series of family name with exactly these labels and
// returns its value (the sample count for a histogram).
func sample(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	mf, ok := fams[name]
	if !ok {
		return 0, false
	}
	for _, m := range mf.Metric {
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		if !maps.Equal(got, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// gather runs c through prometheus.Gatherers (as /metrics does) and returns
// the families by name.
func gather(t *testing.T, g prometheus.Gatherer) (map[string]*dto.MetricFamily, error) {
	t.Helper()
	fams, err := prometheus.Gatherers{g}.Gather()
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out, err
}

func TestMetricsScrapeMergesShardsAndAgent(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	col := NewCollector(CollectorOptions{Metrics: m, Logger: testLogger()})
	env := runServer(t, func(c *Config) {
		c.Gatherer = reg
		c.Collector = col
	})

	col.HandleBusMessage(bus.MetricsSubject(bus.RoleShard, 0), []byte(shardText(10, 4, 1000, 2000)))
	col.HandleBusMessage(bus.MetricsSubject(bus.RoleShard, 1), []byte(shardText(6, 8, 300, 400)))
	col.HandleBusMessage(bus.MetricsSubject(bus.RoleUploader, 0), []byte(
		"# TYPE ailurus_uploader_segments_uploaded_total counter\nailurus_uploader_segments_uploaded_total 4\n"))
	m.ObserveShardHealth(bus.ShardHealth{ShardID: 0, Partitions: 3})
	m.ObserveShardHealth(bus.ShardHealth{ShardID: 1, Partitions: 5})
	m.ShardRestarted(1)

	r := env.get("/metrics")
	if r.status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q, want the text exposition", ct)
	}
	fams := parseExposition(t, r.body)
	shard := func(id string, extra ...string) map[string]string {
		l := map[string]string{"role": "shard", "shard": id}
		for i := 0; i+1 < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		return l
	}
	want := []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{MetricKafkaRequests, shard("0", "api", "produce"), 10},
		{MetricKafkaRequests, shard("0", "api", "fetch"), 4},
		{MetricKafkaRequests, shard("1", "api", "produce"), 6},
		{MetricKafkaRequests, shard("1", "api", "fetch"), 8},
		{MetricKafkaRequestLatency, shard("0", "api", "produce"), 10},
		{MetricKafkaRequestLatency, shard("1", "api", "produce"), 6},
		{MetricKafkaBytesIn, shard("0"), 1000},
		{MetricKafkaBytesIn, shard("1"), 300},
		{MetricKafkaBytesOut, shard("0"), 2000},
		{MetricKafkaBytesOut, shard("1"), 400},
		{"ailurus_uploader_segments_uploaded_total", map[string]string{"role": "uploader", "shard": "0"}, 4},
		{MetricShardPartitions, map[string]string{"shard": "0"}, 3},
		{MetricShardPartitions, map[string]string{"shard": "1"}, 5},
		{MetricShardRestarts, map[string]string{"shard": "1"}, 1},
	}
	for _, w := range want {
		got, ok := sample(fams, w.name, w.labels)
		if !ok || got != w.value {
			t.Errorf("%s%v = %v (found %v), want %v", w.name, w.labels, got, ok, w.value)
		}
	}
	if n := len(fams[MetricKafkaRequests].Metric); n != 4 {
		t.Errorf("%s has %d series, want 4", MetricKafkaRequests, n)
	}
}

func TestMetricsScrapeWithoutSources(t *testing.T) {
	env := runServer(t, nil)
	if r := env.get("/metrics"); r.status != http.StatusOK || len(bytes.TrimSpace(r.body)) != 0 {
		t.Fatalf("GET /metrics with nothing to serve: %d %q", r.status, r.body)
	}
}

func TestCollectorKeepsExistingShardLabel(t *testing.T) {
	col := NewCollector(CollectorOptions{})
	err := col.Push(bus.RoleShard, 1, []byte("# TYPE x_total counter\nx_total{shard=\"7\",role=\"custom\"} 1\nx_total{a=\"b\"} 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	fams, err := gather(t, col)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := sample(fams, "x_total", map[string]string{"shard": "7", "role": "custom"}); !ok || v != 1 {
		t.Errorf("labels given by the process were replaced: %v", fams["x_total"])
	}
	if v, ok := sample(fams, "x_total", map[string]string{"a": "b", "shard": "1", "role": "shard"}); !ok || v != 2 {
		t.Errorf("labels not added: %v", fams["x_total"])
	}
}

func TestCollectorPushReplacesAndForget(t *testing.T) {
	col := NewCollector(CollectorOptions{})
	mustPush(t, col, bus.RoleShard, 0, "a_total 1\nb_total 1\n")
	mustPush(t, col, bus.RoleShard, 0, "a_total 2\n")
	fams, _ := gather(t, col)
	if v, _ := sample(fams, "a_total", map[string]string{"role": "shard", "shard": "0"}); v != 2 {
		t.Errorf("a_total = %v after the second push, want 2", v)
	}
	if _, ok := fams["b_total"]; ok {
		t.Errorf("b_total, absent from the latest push, still served")
	}
	col.Forget(bus.RoleShard, 0)
	if fams, _ := gather(t, col); len(fams) != 0 {
		t.Errorf("after Forget: %v", slices.Collect(maps.Keys(fams)))
	}
}

func TestCollectorRejectsBadPushesAndKeepsThePrevious(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	col := NewCollector(CollectorOptions{Metrics: m, Logger: testLogger()})
	subj := bus.MetricsSubject(bus.RoleShard, 2)
	col.HandleBusMessage(subj, []byte("good_total 1\n"))
	col.HandleBusMessage(subj, []byte("good_total{unterminated 2\n"))
	col.HandleBusMessage(subj, []byte("# TYPE good_total counter\ngood_total not-a-number\n"))
	col.HandleBusMessage("ailurus.metrics.shard", []byte("good_total 3\n")) // no id
	col.HandleBusMessage("ailurus.shard.2.health", []byte("good_total 4\n"))

	if err := col.Push(bus.RoleShard, 2, []byte("bad{")); !errors.Is(err, ErrBadPush) {
		t.Errorf("Push of bad text: %v, want ErrBadPush", err)
	}
	if err := col.Push("", 2, []byte("x 1\n")); !errors.Is(err, ErrBadPush) {
		t.Errorf("Push without role: %v, want ErrBadPush", err)
	}
	fams, err := gather(t, col)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := sample(fams, "good_total", map[string]string{"role": "shard", "shard": "2"}); !ok || v != 1 {
		t.Errorf("previous push lost: %v", fams)
	}
	agent, err := gather(t, reg)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := sample(agent, MetricPushesRejected, map[string]string{"role": "shard"}); v != 2 {
		t.Errorf("rejected shard pushes counted %v, want 2", v)
	}
	if v, _ := sample(agent, MetricPushesRejected, map[string]string{"role": "unknown"}); v != 2 {
		t.Errorf("pushes on bad subjects counted %v, want 2", v)
	}
}

func TestCollectorMaxAgeDropsSilentProcesses(t *testing.T) {
	var (
		mu  sync.Mutex
		now = time.Unix(1_700_000_000, 0)
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	col := NewCollector(CollectorOptions{MaxAge: time.Minute, Now: clock})
	mustPush(t, col, bus.RoleShard, 0, "a_total 1\n")
	advance(40 * time.Second)
	mustPush(t, col, bus.RoleShard, 1, "a_total 1\n")
	advance(30 * time.Second) // shard 0 silent for 70 s, shard 1 for 30 s
	fams, _ := gather(t, col)
	if _, ok := sample(fams, "a_total", map[string]string{"role": "shard", "shard": "0"}); ok {
		t.Error("shard 0, silent past MaxAge, still served")
	}
	if _, ok := sample(fams, "a_total", map[string]string{"role": "shard", "shard": "1"}); !ok {
		t.Error("shard 1, recent, not served")
	}
}

func TestCollectorTypeConflictLeavesOutTheFamilyOfOneProcess(t *testing.T) {
	col := NewCollector(CollectorOptions{})
	mustPush(t, col, bus.RoleShard, 0, "# TYPE x counter\nx 1\n")
	mustPush(t, col, bus.RoleShard, 1, "# TYPE x gauge\nx 2\n# TYPE y gauge\ny 3\n")
	fams, err := gather(t, col)
	if err == nil || !strings.Contains(err.Error(), "metric family x from shard 1") {
		t.Fatalf("Gather error %v, want the conflict on x reported", err)
	}
	if _, ok := sample(fams, "x", map[string]string{"role": "shard", "shard": "0"}); !ok {
		t.Error("x of shard 0 lost")
	}
	if _, ok := sample(fams, "x", map[string]string{"role": "shard", "shard": "1"}); ok {
		t.Error("x of shard 1, a gauge, served in a counter family")
	}
	if _, ok := sample(fams, "y", map[string]string{"role": "shard", "shard": "1"}); !ok {
		t.Error("y of shard 1 lost with x")
	}
}

// TestCollectorConcurrentPushAndScrape runs pushes and scrapes at once; with
// -race it checks that scrapes never write to stored pushes (Gatherers sorts
// label pairs of the metrics it is given).
func TestCollectorConcurrentPushAndScrape(t *testing.T) {
	col := NewCollector(CollectorOptions{})
	env := runServer(t, func(c *Config) { c.Collector = col })
	var wg sync.WaitGroup
	for id := range 4 {
		wg.Go(func() {
			for i := range 50 {
				text := fmt.Sprintf("# TYPE z_total counter\nz_total{b=\"x\",a=\"y\"} %d\n", i)
				if err := col.Push(bus.RoleShard, id, []byte(text)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 20 {
				if _, err := gather(t, col); err != nil {
					t.Error(err)
					return
				}
				if r := env.get("/metrics"); r.status != http.StatusOK {
					t.Errorf("scrape: %d", r.status)
					return
				}
			}
		})
	}
	wg.Wait()
	fams, err := gather(t, col)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(fams["z_total"].GetMetric()); n != 4 {
		t.Fatalf("z_total has %d series, want one per shard", n)
	}
}

func mustPush(t *testing.T, c *Collector, role string, id int, text string) {
	t.Helper()
	if err := c.Push(role, id, []byte(text)); err != nil {
		t.Fatalf("push %s %d: %v", role, id, err)
	}
}
