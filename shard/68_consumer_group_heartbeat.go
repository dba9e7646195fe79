package shard

// ConsumerGroupHeartbeat v0-v1 (KIP-848): the new consumer group protocol,
// with the assignment computed by the coordinator. Join with member epoch
// 0 (v1: the client names itself), heartbeat with the current epoch, leave
// with -1 (-2: a static member that comes back). Served by the shard
// coordinating the group; answered once its records are durable. See
// shard/group/consumer.go.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/shard/group"
)

func init() { regKey(kmsg.ConsumerGroupHeartbeat, 0, 1, handleConsumerGroupHeartbeat) }

func handleConsumerGroupHeartbeat(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.ConsumerGroupHeartbeatRequest)
	return s.atCoordinator(ctx, h, req.Group, 0, req,
		func(c *group.Partition) kmsg.Response {
			host := clientHost(ctx)
			if host != "" {
				host = "/" + host // as Kafka shows it
			}
			return c.ConsumerHeartbeat(ctx, req, h.ClientID, host)
		},
		func(code int16) kmsg.Response {
			r := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
			r.ErrorCode = code
			return r
		})
}

// lookupTopic and listTopics give KIP-848 assignors the topics of the
// current metadata; internal topics are not assigned.
func (s *Shard) lookupTopic(name string) (group.TopicInfo, bool) {
	t, ok := s.cfg.Catalog.State().Topic(name)
	if !ok || t.Internal {
		return group.TopicInfo{}, false
	}
	return group.TopicInfo{Name: t.Name, ID: t.ID, Partitions: int32(len(t.Partitions))}, true
}

func (s *Shard) listTopics() []group.TopicInfo {
	st := s.cfg.Catalog.State()
	var out []group.TopicInfo
	for _, n := range st.TopicNames() {
		if t, ok := st.Topic(n); ok && !t.Internal {
			out = append(out, group.TopicInfo{Name: t.Name, ID: t.ID, Partitions: int32(len(t.Partitions))})
		}
	}
	return out
}
