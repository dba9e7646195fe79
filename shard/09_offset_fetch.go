package shard

// OffsetFetch v0-v8 (v8: several groups in one request, KIP-709, each
// answered by its own coordinator shard). Topics nil (v2+) asks for every
// committed offset of the group. Offsets never committed are -1.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/shard/group"
)

func init() { regKey(kmsg.OffsetFetch, 0, 8, handleOffsetFetch) }

func handleOffsetFetch(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.OffsetFetchRequest)
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version < 8 {
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
			resp.ErrorCode = tg.code
			return resp, nil
		}
		resp.Topics = tg.coord.FetchGroup(req.Group, req.Topics, req.Topics == nil && req.Version >= 2, req.RequireStable)
		return resp, nil
	}
	resp.Groups = eachGroup(ctx, s, h, len(req.Groups), func(i int) string { return req.Groups[i].Group },
		func(c *group.Partition, i int) kmsg.OffsetFetchResponseGroup {
			g := req.Groups[i]
			rg := kmsg.NewOffsetFetchResponseGroup()
			rg.Group = g.Group
			var topics []kmsg.OffsetFetchRequestTopic
			for _, t := range g.Topics {
				topics = append(topics, kmsg.OffsetFetchRequestTopic{Topic: t.Topic, Partitions: t.Partitions})
			}
			for _, t := range c.FetchGroup(g.Group, topics, g.Topics == nil, req.RequireStable) {
				gt := kmsg.NewOffsetFetchResponseGroupTopic()
				gt.Topic = t.Topic
				for _, p := range t.Partitions {
					gp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
					gp.Partition, gp.Offset, gp.LeaderEpoch, gp.Metadata, gp.ErrorCode = p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode
					gt.Partitions = append(gt.Partitions, gp)
				}
				rg.Topics = append(rg.Topics, gt)
			}
			return rg
		},
		func(i int, code int16) kmsg.OffsetFetchResponseGroup {
			rg := kmsg.NewOffsetFetchResponseGroup()
			rg.Group, rg.ErrorCode = req.Groups[i].Group, code
			return rg
		},
		func(idx []int) kmsg.Request {
			fr := kmsg.NewPtrOffsetFetchRequest()
			fr.SetVersion(req.Version)
			fr.RequireStable = req.RequireStable
			for _, i := range idx {
				fr.Groups = append(fr.Groups, req.Groups[i])
			}
			return fr
		},
		func(r kmsg.Response) []kmsg.OffsetFetchResponseGroup { return r.(*kmsg.OffsetFetchResponse).Groups })
	return resp, nil
}
