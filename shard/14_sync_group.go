package shard

// SyncGroup v0-v5: the leader hands in the assignments, which are written
// to __consumer_offsets before any member gets its own; the others wait.
// Unknown members (also of unknown groups) get UNKNOWN_MEMBER_ID.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.SyncGroup, 0, 5, handleSyncGroup) }

func handleSyncGroup(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.SyncGroupRequest)
	fail := func(code int16) kmsg.Response {
		r := req.ResponseKind().(*kmsg.SyncGroupResponse)
		r.ErrorCode = code
		return r
	}
	tg := s.groupRoute(ctx, req.Group)
	if tg.owner >= 0 {
		r, err := s.forwardGroup(ctx, tg.owner, h.ClientID, 5*time.Minute, req)
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
	r := tg.coord.Sync(ctx, req)
	if r == nil {
		return nil, ctx.Err()
	}
	return r, nil
}
