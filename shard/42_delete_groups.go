package shard

// DeleteGroups v0-v2: only empty groups (NON_EMPTY_GROUP otherwise);
// unknown ones GROUP_ID_NOT_FOUND. Tombstones for the group and its offsets
// are durable before the answer.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/shard/group"
)

func init() { regKey(kmsg.DeleteGroups, 0, 2, handleDeleteGroups) }

func handleDeleteGroups(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DeleteGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	refuse := func(i int, code int16) kmsg.DeleteGroupsResponseGroup {
		rg := kmsg.NewDeleteGroupsResponseGroup()
		rg.Group, rg.ErrorCode = req.Groups[i], code
		return rg
	}
	resp.Groups = eachGroup(ctx, s, h, len(req.Groups), func(i int) string { return req.Groups[i] },
		func(c *group.Partition, i int) kmsg.DeleteGroupsResponseGroup {
			return refuse(i, c.Delete(ctx, req.Groups[i]))
		},
		refuse,
		func(idx []int) kmsg.Request {
			fr := kmsg.NewPtrDeleteGroupsRequest()
			fr.SetVersion(req.Version)
			for _, i := range idx {
				fr.Groups = append(fr.Groups, req.Groups[i])
			}
			return fr
		},
		func(r kmsg.Response) []kmsg.DeleteGroupsResponseGroup { return r.(*kmsg.DeleteGroupsResponse).Groups })
	return resp, nil
}
