package shard

// OffsetFetch v0-v8 (v8: several groups in one request, KIP-709, each
// answered by its own coordinator shard). Topics nil (v2+) asks for every
// committed offset of the group. Offsets never committed are -1.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
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
	resp.Groups = make([]kmsg.OffsetFetchResponseGroup, len(req.Groups))
	remote := map[int][]int{} // shard -> indexes into req.Groups
	for i, g := range req.Groups {
		rg := &resp.Groups[i]
		*rg = kmsg.NewOffsetFetchResponseGroup()
		rg.Group = g.Group
		tg := s.groupRoute(ctx, g.Group)
		switch {
		case tg.owner >= 0:
			remote[tg.owner] = append(remote[tg.owner], i)
		case tg.coord == nil:
			rg.ErrorCode = tg.code
		default:
			var topics []kmsg.OffsetFetchRequestTopic
			for _, t := range g.Topics {
				topics = append(topics, kmsg.OffsetFetchRequestTopic{Topic: t.Topic, Partitions: t.Partitions})
			}
			for _, t := range tg.coord.FetchGroup(g.Group, topics, g.Topics == nil, req.RequireStable) {
				gt := kmsg.NewOffsetFetchResponseGroupTopic()
				gt.Topic = t.Topic
				for _, p := range t.Partitions {
					gp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
					gp.Partition, gp.Offset, gp.LeaderEpoch, gp.Metadata, gp.ErrorCode = p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode
					gt.Partitions = append(gt.Partitions, gp)
				}
				rg.Topics = append(rg.Topics, gt)
			}
		}
	}
	for owner, idx := range remote {
		fr := kmsg.NewPtrOffsetFetchRequest()
		fr.SetVersion(req.Version)
		fr.RequireStable = req.RequireStable
		for _, i := range idx {
			fr.Groups = append(fr.Groups, req.Groups[i])
		}
		r, err := s.forwardGroup(ctx, owner, h.ClientID, 0, fr)
		for k, i := range idx {
			if err != nil {
				resp.Groups[i].ErrorCode = coordinatorGone
				continue
			}
			if fg := r.(*kmsg.OffsetFetchResponse).Groups; k < len(fg) {
				resp.Groups[i] = fg[k]
			}
		}
	}
	return resp, nil
}
