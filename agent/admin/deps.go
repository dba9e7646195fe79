package admin

import (
	"context"

	"github.com/ailurus/ailurus/internal/metadata"
)

// Cluster is the controller as the admin API uses it. The agent passes its
// *controller.Controller, which satisfies it as is. Methods are called from
// the HTTP server's goroutines, concurrently.
type Cluster interface {
	// State returns the last applied cluster metadata. It must not block; the
	// result is shared and immutable, the server only reads it.
	State() *metadata.State
	// SetClusterConfig upserts and removes cluster properties through the
	// controller log and returns the metadata version after the change (the
	// current version if nothing changed). Values arrive validated and in the
	// text form of clusterValueText. It blocks until the change is applied
	// locally or ctx ends.
	SetClusterConfig(ctx context.Context, upsert map[string]string, remove []string) (version uint64, err error)
}

// Health reports how far this node's shards are in starting. The agent's
// supervisor implements it from the shards' health reports. Called from HTTP
// goroutines for every readiness probe: it must not block.
type Health interface {
	// ShardsServing returns how many shards accept Kafka requests now, and how
	// many the node runs. The node is ready when total > 0 and serving == total.
	ShardsServing() (serving, total int)
}

// Liveness is an optional capability of a Cluster: whether another node is
// alive as the cluster sees it. Without it /v1/brokers leaves is_alive out for
// every node but this one (which is alive: it is answering).
type Liveness interface {
	// NodeAlive reports whether nodeID is alive; known is false when there is
	// no opinion yet (no heartbeat seen since start). Must not block.
	NodeAlive(nodeID int32) (alive, known bool)
}
