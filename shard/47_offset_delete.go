package shard

// OffsetDelete v0 (KIP-496): deletes committed offsets of a group, except
// for topics an active consumer group subscribes to
// (GROUP_SUBSCRIBED_TO_TOPIC).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/shard/group"
)

func init() { regKey(kmsg.OffsetDelete, 0, 0, handleOffsetDelete) }

func handleOffsetDelete(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.OffsetDeleteRequest)
	return s.atCoordinator(ctx, h, req.Group, 0, req,
		func(c *group.Partition) kmsg.Response { return c.DeleteOffsets(ctx, req) },
		func(code int16) kmsg.Response {
			r := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
			r.ErrorCode = code
			return r
		})
}
