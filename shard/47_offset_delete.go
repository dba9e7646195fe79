package shard

// OffsetDelete v0 (KIP-496): deletes committed offsets of a group, except
// for topics an active consumer group subscribes to
// (GROUP_SUBSCRIBED_TO_TOPIC).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.OffsetDelete, 0, 0, handleOffsetDelete) }

func handleOffsetDelete(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.OffsetDeleteRequest)
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
		r := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
		r.ErrorCode = tg.code
		return r, nil
	}
	return tg.coord.DeleteOffsets(ctx, req), nil
}
