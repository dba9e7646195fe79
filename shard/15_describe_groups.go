package shard

// DescribeGroups v0-v5: each group described by its coordinator shard.
// Unknown groups, and KIP-848 consumer groups (not classic groups; see
// ConsumerGroupDescribe), are GROUP_ID_NOT_FOUND with state Dead.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/shard/group"
)

func init() { regKey(kmsg.DescribeGroups, 0, 5, handleDescribeGroups) }

func handleDescribeGroups(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DescribeGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	resp.Groups = eachGroup(ctx, s, h, len(req.Groups), func(i int) string { return req.Groups[i] },
		func(c *group.Partition, i int) kmsg.DescribeGroupsResponseGroup { return c.Describe(req.Groups[i]) },
		func(i int, code int16) kmsg.DescribeGroupsResponseGroup {
			rg := kmsg.NewDescribeGroupsResponseGroup()
			rg.Group, rg.ErrorCode = req.Groups[i], code
			return rg
		},
		func(idx []int) kmsg.Request {
			fr := kmsg.NewPtrDescribeGroupsRequest()
			fr.SetVersion(req.Version)
			fr.IncludeAuthorizedOperations = req.IncludeAuthorizedOperations
			for _, i := range idx {
				fr.Groups = append(fr.Groups, req.Groups[i])
			}
			return fr
		},
		func(r kmsg.Response) []kmsg.DescribeGroupsResponseGroup {
			return r.(*kmsg.DescribeGroupsResponse).Groups
		})
	return resp, nil
}
