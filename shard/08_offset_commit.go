package shard

// OffsetCommit v0-v8: served by the group's coordinator; answered only once
// the offsets are durable in __consumer_offsets. A group with generation -1
// and no member id only stores offsets (kadm, standalone consumers).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/shard/group"
)

func init() { regKey(kmsg.OffsetCommit, 0, 8, handleOffsetCommit) }

func handleOffsetCommit(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.OffsetCommitRequest)
	return s.atCoordinator(ctx, h, req.Group, 0, req,
		func(c *group.Partition) kmsg.Response { return c.Commit(ctx, req) },
		func(code int16) kmsg.Response {
			r := req.ResponseKind().(*kmsg.OffsetCommitResponse)
			for _, t := range req.Topics {
				rt := kmsg.NewOffsetCommitResponseTopic()
				rt.Topic = t.Topic
				for _, p := range t.Partitions {
					rp := kmsg.NewOffsetCommitResponseTopicPartition()
					rp.Partition, rp.ErrorCode = p.Partition, code
					rt.Partitions = append(rt.Partitions, rp)
				}
				r.Topics = append(r.Topics, rt)
			}
			return r
		})
}
