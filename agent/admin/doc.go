// Package admin is the node's admin API: the HTTP server on port 9644 that
// answers readiness probes, rpk-style cluster queries (brokers, partitions,
// cluster configuration) and Prometheus scrapes, with Redpanda's paths and
// JSON shapes so that rpk and existing tooling keep working.
//
// Lifecycle: the agent builds a Server with New once the controller is open,
// calls Serve (or ListenAndServe) from a goroutine of its own, and Shutdown
// when it stops. The Server owns no state of its own beyond its HTTP server:
// every answer is computed from the dependencies passed in Config at the
// time of the request (the controller's immutable metadata.State, the shard
// health seen by the agent, the Prometheus gatherers).
//
// Metrics: shards (and the other children) push their Prometheus text over
// the bus; a Collector keeps the latest push of each process and /metrics
// serves them merged with the agent's own registry (see Metrics).
//
// The package imports no other role: the agent adapts its controller and
// supervisor to the small interfaces in deps.go.
package admin
