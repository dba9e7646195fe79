package tests

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ailurus/ailurus/internal/testkit"
)

func httpDo(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestE2EAdminAPI(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	n.mu.Lock()
	base := n.AdminURL
	n.mu.Unlock()
	if base == "" {
		t.Fatalf("no admin address in logs")
	}
	if code, body := httpDo(t, "GET", base+"/v1/status/ready", ""); code != 200 || !strings.Contains(body, "ready") {
		t.Fatalf("ready: %d %s", code, body)
	}
	code, body := httpDo(t, "GET", base+"/v1/brokers", "")
	var brokers []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &brokers) != nil || len(brokers) != 1 || brokers[0]["num_cores"] != float64(2) {
		t.Fatalf("brokers: %d %s", code, body)
	}
	// Every bad property is reported and nothing is applied.
	code, body = httpDo(t, "PUT", base+"/v1/cluster_config", `{"upsert":{"log_segment_size":"lots","no_such_property":1}}`)
	if code != 400 || !strings.Contains(body, "log_segment_size") || !strings.Contains(body, "no_such_property") {
		t.Fatalf("bad PUT: %d %s", code, body)
	}
	if code, body = httpDo(t, "PUT", base+"/v1/cluster_config", `{"upsert":{"default_topic_partitions":3}}`); code != 200 {
		t.Fatalf("good PUT: %d %s", code, body)
	}
	// The new default reaches the shards: an auto-created topic gets 3 partitions.
	cl := n.Client(kgo.AllowAutoTopicCreation())
	if err := cl.ProduceSync(ctxT(t, time.Minute), &kgo.Record{Topic: "auto3", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	md, err := n.Admin().Metadata(ctxT(t, time.Minute), "auto3")
	if err != nil || len(md.Topics["auto3"].Partitions) != 3 {
		t.Fatalf("auto-created topic: %v %d partitions", err, len(md.Topics["auto3"].Partitions))
	}
	if code, body = httpDo(t, "GET", base+"/v1/partitions", ""); code != 200 || !strings.Contains(body, `"auto3"`) {
		t.Fatalf("partitions: %d %s", code, body)
	}
	// Shards push their request counters; the agent serves them with labels.
	testkit.CheckFor(t, time.Minute, func() error {
		_, m := httpDo(t, "GET", base+"/metrics", "")
		if !strings.Contains(m, `ailurus_kafka_requests_total{api="Produce"`) || !strings.Contains(m, `shard="`) {
			return io.ErrUnexpectedEOF
		}
		// The one record produced was counted and fsynced (group commits:
		// records per fsync is records_in over fsyncs).
		if sumMetric(m, "ailurus_kafka_records_in_total") < 1 || sumMetric(m, "ailurus_storage_fsyncs_total") < 1 ||
			sumMetric(m, "ailurus_storage_fsync_latency_seconds_count") < 1 {
			return fmt.Errorf("records in %v, fsyncs %v", sumMetric(m, "ailurus_kafka_records_in_total"), sumMetric(m, "ailurus_storage_fsyncs_total"))
		}
		// Each shard's series once, the agent's partition gauge present.
		if k := strings.Count(m, "\nailurus_kafka_records_in_total{role=\"shard\",shard=\"0\"}"); k != 1 {
			return fmt.Errorf("shard 0's records_in served %d times", k)
		}
		if !strings.Contains(m, "\nailurus_shard_partitions{shard=\"0\"}") {
			return errors.New("no ailurus_shard_partitions for shard 0")
		}
		return nil
	})
	if strings.Contains(n.Logs(), "metrics scrape incomplete") {
		t.Fatalf("a /metrics scrape was incomplete:\n%s", tail(n.Logs(), 5))
	}
	if code, _ := httpDo(t, "GET", base+"/v1/nope", ""); code != 404 {
		t.Fatalf("unknown route: %d", code)
	}
}

// sumMetric adds up every sample of a metric in a Prometheus text page
// whose line holds every one of labels (e.g. `how="file"`).
func sumMetric(page, name string, labels ...string) float64 {
	var sum float64
lines:
	for _, line := range strings.Split(page, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		for _, l := range labels {
			if !strings.Contains(line, l) {
				continue lines
			}
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
				sum += v
			}
		}
	}
	return sum
}
