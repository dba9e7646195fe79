package shard

// Heartbeat v0-v4: keeps a member's session; REBALANCE_IN_PROGRESS tells it
// to rejoin.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.Heartbeat, 0, 4, handleHeartbeat) }

func handleHeartbeat(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.HeartbeatRequest)
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
		r := req.ResponseKind().(*kmsg.HeartbeatResponse)
		r.ErrorCode = tg.code
		return r, nil
	}
	return tg.coord.Heartbeat(req), nil
}
