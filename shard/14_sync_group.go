package shard

// SyncGroup v0-v5: the leader hands in the assignments, which are written
// to __consumer_offsets before any member gets its own; the others wait.
// Unknown members (also of unknown groups) get UNKNOWN_MEMBER_ID.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/shard/group"
)

func init() { regKey(kmsg.SyncGroup, 0, 5, handleSyncGroup) }

func handleSyncGroup(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.SyncGroupRequest)
	return s.atCoordinator(ctx, h, req.Group, 5*time.Minute, req,
		func(c *group.Partition) kmsg.Response {
			if r := c.Sync(ctx, req); r != nil {
				return r
			}
			return nil
		},
		func(code int16) kmsg.Response {
			r := req.ResponseKind().(*kmsg.SyncGroupResponse)
			r.ErrorCode = code
			return r
		})
}
