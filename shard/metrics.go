package shard

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/storage"
)

// Registry holds the shard process's instruments; the process pushes its
// text exposition to the agent over the bus.
var Registry = prometheus.NewRegistry()

var (
	metricRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ailurus_kafka_requests_total", Help: "Kafka requests from clients served, by API.",
	}, []string{"api"})
	metricForwarded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ailurus_shard_forwarded_requests_total",
		Help: "Requests another shard of this node forwarded here (parts of client requests for partitions or groups this shard owns), by API.",
	}, []string{"api"})
	metricLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "ailurus_kafka_request_latency_seconds", Help: "Kafka request latency from clients, by API.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
	}, []string{"api"})
	metricBadRequests = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ailurus_kafka_bad_requests_total", Help: "Requests refused as malformed, unknown or too large.",
	})
	metricBytesIn = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ailurus_kafka_bytes_in_total", Help: "Record batch bytes produced.",
	})
	metricBytesOut = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ailurus_kafka_bytes_out_total", Help: "Record batch bytes fetched.",
	})
	metricCrossShardOut = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ailurus_kafka_fetch_cross_shard_bytes_total",
		Help: "Record batch bytes fetched through this shard from partitions another shard owns: how=file sent from the owner's segment files, how=copy copied over the forward socket.",
	}, []string{"how"})
	metricRecordsIn = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ailurus_kafka_records_in_total", Help: "Records produced (in batches written to a log).",
	})
	metricSyncLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "ailurus_storage_fsync_latency_seconds",
		Help:    "Duration of each group commit's fdatasync of partition log data.",
		Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16),
	})
	metricSyncs = prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "ailurus_storage_fsyncs_total", Help: "fdatasyncs of partition log data (group commits).",
	}, func() float64 { return float64(storage.ProcessSyncs()) })
)

func init() {
	Registry.MustRegister(metricRequests, metricForwarded, metricLatency, metricBadRequests, metricBytesIn, metricBytesOut,
		metricCrossShardOut, metricRecordsIn, metricSyncs, metricSyncLatency)
	storage.ObserveSyncs(func(d time.Duration) { metricSyncLatency.Observe(d.Seconds()) })
}

// observeRequest counts a request and returns the function that records its
// latency when it is done. A request forwarded by another shard is only
// counted apart: the client's request was counted where it arrived, and its
// latency there includes this part.
func observeRequest(key int16, forwarded bool) func() {
	name := kmsg.NameForKey(key)
	if name == "" {
		name = strconv.Itoa(int(key))
	}
	if forwarded {
		metricForwarded.WithLabelValues(name).Inc()
		return func() {}
	}
	metricRequests.WithLabelValues(name).Inc()
	start := time.Now()
	return func() { metricLatency.WithLabelValues(name).Observe(time.Since(start).Seconds()) }
}
