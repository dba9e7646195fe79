package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ailurus/ailurus/agent/controller"
)

// groupTopic holds consumer group metadata and committed offsets; the
// shards' group coordinators own its partitions.
const groupTopic = "__consumer_offsets"

// ensureInternalTopics creates the internal topics that do not exist yet,
// once the broker is registered (so the topic has a place to go). The
// partition count of __consumer_offsets comes from group_topic_partitions
// (default 16) and is fixed at creation: groups hash onto it. A failure is
// logged, not fatal: the node serves, and FindCoordinator answers
// COORDINATOR_NOT_AVAILABLE until the topic exists.
func (a *Agent) ensureInternalTopics(ctx context.Context) {
	if err := a.createInternalTopics(ctx); err != nil {
		a.log.Warn("internal topics not created", "err", err)
	}
}

func (a *Agent) createInternalTopics(ctx context.Context) error {
	if _, ok := a.ctrl.State().Topic(groupTopic); ok {
		return nil
	}
	n := a.ctrl.State().ClusterConfig.Int("group_topic_partitions", 16)
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := a.ctrl.CreateTopic(cctx, controller.CreateTopicRequest{
		Name: groupTopic, Partitions: int32(n), ReplicationFactor: -1, Internal: true,
		Configs: map[string]string{"cleanup.policy": "compact"},
	})
	if err != nil && !errors.Is(err, controller.ErrTopicExists) {
		return fmt.Errorf("create %s: %w", groupTopic, err)
	}
	if err == nil {
		a.log.Info("internal topic created", "topic", groupTopic, "partitions", n)
	}
	return nil
}
