package shard

// DeleteGroups v0-v2: only empty groups (NON_EMPTY_GROUP otherwise);
// unknown ones GROUP_ID_NOT_FOUND. Tombstones for the group and its offsets
// are durable before the answer.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.DeleteGroups, 0, 2, handleDeleteGroups) }

func handleDeleteGroups(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DeleteGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	resp.Groups = make([]kmsg.DeleteGroupsResponseGroup, len(req.Groups))
	remote := map[int][]int{}
	for i, g := range req.Groups {
		rg := kmsg.NewDeleteGroupsResponseGroup()
		rg.Group = g
		tg := s.groupRoute(ctx, g)
		switch {
		case tg.owner >= 0:
			remote[tg.owner] = append(remote[tg.owner], i)
		case tg.coord == nil:
			rg.ErrorCode = tg.code
		default:
			rg.ErrorCode = tg.coord.Delete(ctx, g)
		}
		resp.Groups[i] = rg
	}
	for owner, idx := range remote {
		fr := kmsg.NewPtrDeleteGroupsRequest()
		fr.SetVersion(req.Version)
		for _, i := range idx {
			fr.Groups = append(fr.Groups, req.Groups[i])
		}
		r, err := s.forwardGroup(ctx, owner, h.ClientID, 0, fr)
		for k, i := range idx {
			if err != nil {
				resp.Groups[i].ErrorCode = coordinatorGone
				continue
			}
			if fg := r.(*kmsg.DeleteGroupsResponse).Groups; k < len(fg) {
				resp.Groups[i] = fg[k]
			}
		}
	}
	return resp, nil
}
