package shard

// LeaveGroup v0-v5 (v3+: a batch of members, by member id or
// group.instance.id, KIP-345). The group rebalances without them.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/shard/group"
)

func init() { regKey(kmsg.LeaveGroup, 0, 5, handleLeaveGroup) }

func handleLeaveGroup(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.LeaveGroupRequest)
	return s.atCoordinator(ctx, h, req.Group, 0, req,
		func(c *group.Partition) kmsg.Response { return c.Leave(req) },
		func(code int16) kmsg.Response {
			r := req.ResponseKind().(*kmsg.LeaveGroupResponse)
			r.ErrorCode = code
			return r
		})
}
