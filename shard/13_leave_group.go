package shard

// LeaveGroup v0-v5 (v3+: a batch of members, by member id or
// group.instance.id, KIP-345). The group rebalances without them.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.LeaveGroup, 0, 5, handleLeaveGroup) }

func handleLeaveGroup(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.LeaveGroupRequest)
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
		r := req.ResponseKind().(*kmsg.LeaveGroupResponse)
		r.ErrorCode = tg.code
		return r, nil
	}
	return tg.coord.Leave(req), nil
}
