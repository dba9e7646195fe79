package agent

import "github.com/prometheus/client_golang/prometheus"

// Registry holds the agent's own instruments (admin.NewMetrics registers the
// shard restart and health series in it); the admin API serves it with the
// shards' pushed metrics.
var Registry = prometheus.NewRegistry()
