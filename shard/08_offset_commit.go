package shard

// OffsetCommit v0-v8: served by the group's coordinator; answered only once
// the offsets are durable in __consumer_offsets. A group with generation -1
// and no member id only stores offsets (kadm, standalone consumers).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.OffsetCommit, 0, 8, handleOffsetCommit) }

func handleOffsetCommit(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.OffsetCommitRequest)
	tg := s.groupRoute(ctx, req.Group)
	if tg.owner >= 0 {
		r, err := s.forwardGroup(ctx, tg.owner, h.ClientID, 0, req)
		if err == nil {
			return r, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		tg.code = coordinatorGone
	}
	if tg.coord == nil {
		r := req.ResponseKind().(*kmsg.OffsetCommitResponse)
		for _, t := range req.Topics {
			rt := kmsg.NewOffsetCommitResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewOffsetCommitResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, tg.code
				rt.Partitions = append(rt.Partitions, rp)
			}
			r.Topics = append(r.Topics, rt)
		}
		return r, nil
	}
	return tg.coord.Commit(ctx, req), nil
}
