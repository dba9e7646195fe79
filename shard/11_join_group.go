package shard

// JoinGroup v0-v9: served by the shard coordinating the group (forwarded
// there otherwise); it waits for the rebalance. v4+ first joins get
// MEMBER_ID_REQUIRED (KIP-394); group.instance.id is static membership
// (KIP-345). See shard/group.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.JoinGroup, 0, 9, handleJoinGroup) }

func handleJoinGroup(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.JoinGroupRequest)
	fail := func(code int16) kmsg.Response {
		r := req.ResponseKind().(*kmsg.JoinGroupResponse)
		r.ErrorCode, r.Generation, r.MemberID = code, -1, req.MemberID
		return r
	}
	tg := s.groupRoute(ctx, req.Group)
	if tg.owner >= 0 {
		wait := time.Duration(max(req.RebalanceTimeoutMillis, req.SessionTimeoutMillis)) * time.Millisecond
		r, err := s.forwardGroup(ctx, tg.owner, h.ClientID, wait, req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return fail(coordinatorGone), nil
		}
		return r, nil
	}
	if tg.coord == nil {
		return fail(tg.code), nil
	}
	host := clientHost(ctx)
	if host != "" {
		host = "/" + host // as Kafka shows it
	}
	r := tg.coord.Join(ctx, req, h.ClientID, host)
	if r == nil {
		return nil, ctx.Err()
	}
	return r, nil
}
