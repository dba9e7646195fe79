package shard

// DescribeGroups v0-v5: each group described by its coordinator shard.
// Unknown groups, and KIP-848 consumer groups (not classic groups; see
// ConsumerGroupDescribe), are GROUP_ID_NOT_FOUND with state Dead.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.DescribeGroups, 0, 5, handleDescribeGroups) }

func handleDescribeGroups(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DescribeGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	resp.Groups = make([]kmsg.DescribeGroupsResponseGroup, len(req.Groups))
	remote := map[int][]int{}
	for i, g := range req.Groups {
		tg := s.groupRoute(ctx, g)
		switch {
		case tg.owner >= 0:
			remote[tg.owner] = append(remote[tg.owner], i)
		case tg.coord == nil:
			rg := kmsg.NewDescribeGroupsResponseGroup()
			rg.Group, rg.ErrorCode = g, tg.code
			resp.Groups[i] = rg
		default:
			resp.Groups[i] = tg.coord.Describe(g)
		}
	}
	for owner, idx := range remote {
		fr := kmsg.NewPtrDescribeGroupsRequest()
		fr.SetVersion(req.Version)
		fr.IncludeAuthorizedOperations = req.IncludeAuthorizedOperations
		for _, i := range idx {
			fr.Groups = append(fr.Groups, req.Groups[i])
		}
		r, err := s.forwardGroup(ctx, owner, h.ClientID, 0, fr)
		for k, i := range idx {
			rg := kmsg.NewDescribeGroupsResponseGroup()
			rg.Group, rg.ErrorCode = req.Groups[i], coordinatorGone
			if err == nil {
				if fg := r.(*kmsg.DescribeGroupsResponse).Groups; k < len(fg) {
					rg = fg[k]
				}
			}
			resp.Groups[i] = rg
		}
	}
	return resp, nil
}
