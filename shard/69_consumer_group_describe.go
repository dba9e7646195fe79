package shard

// ConsumerGroupDescribe v0-v1 (KIP-848): epochs, assignor, members with
// their current and target assignments, each group described by its
// coordinator shard. Classic and unknown groups: GROUP_ID_NOT_FOUND.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.ConsumerGroupDescribe, 0, 1, handleConsumerGroupDescribe) }

func handleConsumerGroupDescribe(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.ConsumerGroupDescribeRequest)
	resp := req.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
	resp.Groups = make([]kmsg.ConsumerGroupDescribeResponseGroup, len(req.Groups))
	remote := map[int][]int{}
	for i, g := range req.Groups {
		tg := s.groupRoute(ctx, g)
		switch {
		case tg.owner >= 0:
			remote[tg.owner] = append(remote[tg.owner], i)
		case tg.coord == nil:
			rg := kmsg.NewConsumerGroupDescribeResponseGroup()
			rg.Group, rg.ErrorCode = g, tg.code
			resp.Groups[i] = rg
		default:
			resp.Groups[i] = tg.coord.ConsumerDescribe(g, req.Version)
		}
	}
	for owner, idx := range remote {
		fr := kmsg.NewPtrConsumerGroupDescribeRequest()
		fr.SetVersion(req.Version)
		fr.IncludeAuthorizedOperations = req.IncludeAuthorizedOperations
		for _, i := range idx {
			fr.Groups = append(fr.Groups, req.Groups[i])
		}
		r, err := s.forwardGroup(ctx, owner, h.ClientID, 0, fr)
		for k, i := range idx {
			rg := kmsg.NewConsumerGroupDescribeResponseGroup()
			rg.Group, rg.ErrorCode = req.Groups[i], coordinatorGone
			if err == nil {
				if fg := r.(*kmsg.ConsumerGroupDescribeResponse).Groups; k < len(fg) {
					rg = fg[k]
				}
			}
			resp.Groups[i] = rg
		}
	}
	return resp, nil
}
