package shard

// Heartbeat v0-v4: keeps a member's session; REBALANCE_IN_PROGRESS tells it
// to rejoin.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/shard/group"
)

func init() { regKey(kmsg.Heartbeat, 0, 4, handleHeartbeat) }

func handleHeartbeat(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.HeartbeatRequest)
	return s.atCoordinator(ctx, h, req.Group, 0, req,
		func(c *group.Partition) kmsg.Response { return c.Heartbeat(req) },
		func(code int16) kmsg.Response {
			r := req.ResponseKind().(*kmsg.HeartbeatResponse)
			r.ErrorCode = code
			return r
		})
}
