package shard

// ConsumerGroupDescribe v0-v1 (KIP-848): epochs, assignor, members with
// their current and target assignments, each group described by its
// coordinator shard. Classic and unknown groups: GROUP_ID_NOT_FOUND.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/shard/group"
)

func init() { regKey(kmsg.ConsumerGroupDescribe, 0, 1, handleConsumerGroupDescribe) }

func handleConsumerGroupDescribe(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.ConsumerGroupDescribeRequest)
	resp := req.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
	resp.Groups = eachGroup(ctx, s, h, len(req.Groups), func(i int) string { return req.Groups[i] },
		func(c *group.Partition, i int) kmsg.ConsumerGroupDescribeResponseGroup {
			return c.ConsumerDescribe(req.Groups[i], req.Version)
		},
		func(i int, code int16) kmsg.ConsumerGroupDescribeResponseGroup {
			rg := kmsg.NewConsumerGroupDescribeResponseGroup()
			rg.Group, rg.ErrorCode = req.Groups[i], code
			return rg
		},
		func(idx []int) kmsg.Request {
			fr := kmsg.NewPtrConsumerGroupDescribeRequest()
			fr.SetVersion(req.Version)
			fr.IncludeAuthorizedOperations = req.IncludeAuthorizedOperations
			for _, i := range idx {
				fr.Groups = append(fr.Groups, req.Groups[i])
			}
			return fr
		},
		func(r kmsg.Response) []kmsg.ConsumerGroupDescribeResponseGroup {
			return r.(*kmsg.ConsumerGroupDescribeResponse).Groups
		})
	return resp, nil
}
