package admin

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ailurus/ailurus/internal/bus"
)

// What /metrics serves, by who fills it.
//
// Filled from the shards' reports. Each shard keeps these instruments in its
// own registry and pushes the text exposition on bus.MetricsSubject; the
// Collector keeps the latest push of each shard and adds the labels role and
// shard. The names are fixed here so that one file lists what /metrics holds;
// the shard declares the instruments with these names (it cannot import this
// package; the names are meant to move to internal/ with the shard's side).
const (
	// MetricKafkaRequests counts Kafka requests handled, labels api (the
	// Kafka API name, "produce", "fetch", ...) and shard.
	MetricKafkaRequests = "ailurus_kafka_requests_total"
	// MetricKafkaRequestLatency is a histogram of seconds from a request's
	// last byte read to its response's first byte written, labels api, shard.
	MetricKafkaRequestLatency = "ailurus_kafka_request_latency_seconds"
	// MetricKafkaBytesIn counts record batch bytes produced, label shard.
	MetricKafkaBytesIn = "ailurus_kafka_bytes_in_total"
	// MetricKafkaBytesOut counts record batch bytes fetched, label shard.
	MetricKafkaBytesOut = "ailurus_kafka_bytes_out_total"
)

// Kept by the agent itself, in Metrics.
const (
	// MetricShardPartitions is a gauge of the partition replicas each shard
	// hosts, from its health reports, label shard.
	MetricShardPartitions = "ailurus_shard_partitions"
	// MetricShardRestarts counts the restarts of each shard process by the
	// agent's supervisor, label shard.
	MetricShardRestarts = "ailurus_shard_restarts_total"
	// MetricPushesRejected counts metrics pushes the Collector could not
	// use (bad subject or text), label role ("unknown" for a bad subject).
	MetricPushesRejected = "ailurus_metrics_pushes_rejected_total"
)

// Metrics is the agent's own instruments. The agent creates it once with
// NewMetrics on its registry and passes that registry as Config.Gatherer. All
// methods are safe for concurrent use and do nothing on a nil *Metrics.
type Metrics struct {
	shardPartitions *prometheus.GaugeVec
	shardRestarts   *prometheus.CounterVec
	pushesRejected  *prometheus.CounterVec
}

// NewMetrics creates the instruments and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		shardPartitions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricShardPartitions,
			Help: "Partition replicas hosted by each shard, as last reported by the shard.",
		}, []string{"shard"}),
		shardRestarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricShardRestarts,
			Help: "Times the agent restarted each shard process.",
		}, []string{"shard"}),
		pushesRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricPushesRejected,
			Help: "Metrics pushes from child processes that were malformed and dropped.",
		}, []string{"role"}),
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.shardPartitions, m.shardRestarts, m.pushesRejected} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("admin: register metrics: %w", err)
	}
	return m, nil
}

// ObserveShardHealth records a shard's health report (bus.ShardHealth). The
// agent calls it from its health subscription.
func (m *Metrics) ObserveShardHealth(h bus.ShardHealth) {
	if m == nil {
		return
	}
	m.shardPartitions.WithLabelValues(strconv.Itoa(h.ShardID)).Set(float64(h.Partitions))
}

// ShardRestarted counts one restart of shard id. The supervisor calls it when
// it starts a shard again after the previous process exited.
func (m *Metrics) ShardRestarted(id int) {
	if m == nil {
		return
	}
	m.shardRestarts.WithLabelValues(strconv.Itoa(id)).Inc()
}

// pushRejected counts one dropped push.
func (m *Metrics) pushRejected(role string) {
	if m == nil {
		return
	}
	m.pushesRejected.WithLabelValues(role).Inc()
}
