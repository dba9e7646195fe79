package shard

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestObserveRequestForwarded: a request another shard forwarded is counted
// apart from clients' requests, so summing the shards' request counters
// counts each client request once.
func TestObserveRequestForwarded(t *testing.T) {
	clients := counterValue(t, metricRequests.WithLabelValues("Produce"))
	fwd := counterValue(t, metricForwarded.WithLabelValues("Produce"))
	observeRequest(int16(kmsg.Produce), false)()
	observeRequest(int16(kmsg.Produce), true)()
	observeRequest(int16(kmsg.Produce), true)()
	if d := counterValue(t, metricRequests.WithLabelValues("Produce")) - clients; d != 1 {
		t.Errorf("client requests counted %v, want 1", d)
	}
	if d := counterValue(t, metricForwarded.WithLabelValues("Produce")) - fwd; d != 2 {
		t.Errorf("forwarded requests counted %v, want 2", d)
	}
}
