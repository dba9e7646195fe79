package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ailurus/ailurus/agent/controller"
)

// The internal topics, compacted, whose partitions the shards' coordinators
// own: consumer group metadata and committed offsets, and transaction
// coordinator state.
const (
	groupTopic = "__consumer_offsets"
	txnTopic   = "__transaction_state"
)

// internalTopics names each internal topic and the cluster property giving
// its partition count (fixed at creation: group and transactional ids hash
// onto it) with its default.
var internalTopics = []struct {
	name, countKey string
	count          int64
}{
	{groupTopic, "group_topic_partitions", 16},
	{txnTopic, "transaction_coordinator_partitions", 16},
}

// ensureInternalTopics creates the internal topics that do not exist yet,
// once the broker is registered (so the topic has a place to go). A failure
// is logged, not fatal: the node serves, and FindCoordinator answers
// COORDINATOR_NOT_AVAILABLE until the topic exists.
func (a *Agent) ensureInternalTopics(ctx context.Context) {
	if err := a.createInternalTopics(ctx); err != nil {
		a.log.Warn("internal topics not created", "err", err)
	}
}

func (a *Agent) createInternalTopics(ctx context.Context) error {
	for _, it := range internalTopics {
		if _, ok := a.ctrl.State().Topic(it.name); ok {
			continue
		}
		n := a.ctrl.State().ClusterConfig.Int(it.countKey, it.count)
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := a.ctrl.CreateTopic(cctx, controller.CreateTopicRequest{
			Name: it.name, Partitions: int32(n), ReplicationFactor: -1, Internal: true,
			Configs: map[string]string{"cleanup.policy": "compact"},
		})
		cancel()
		if err != nil && !errors.Is(err, controller.ErrTopicExists) {
			return fmt.Errorf("create %s: %w", it.name, err)
		}
		if err == nil {
			a.log.Info("internal topic created", "topic", it.name, "partitions", n)
		}
	}
	return nil
}
