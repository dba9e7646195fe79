package agent

import "github.com/prometheus/client_golang/prometheus"

// Registry holds the agent's own instruments; the admin API serves them with
// the shards' pushed metrics.
var Registry = prometheus.NewRegistry()

var metricShardRestarts = prometheus.NewCounter(prometheus.CounterOpts{
	Name: "ailurus_shard_restarts_total", Help: "Shard processes restarted after an unexpected exit.",
})

func init() { Registry.MustRegister(metricShardRestarts) }
