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
	"github.com/ailurus/ailurus/shard/group"
)

func init() { regKey(kmsg.JoinGroup, 0, 9, handleJoinGroup) }

func handleJoinGroup(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.JoinGroupRequest)
	wait := time.Duration(max(req.RebalanceTimeoutMillis, req.SessionTimeoutMillis)) * time.Millisecond
	return s.atCoordinator(ctx, h, req.Group, wait, req,
		func(c *group.Partition) kmsg.Response {
			host := clientHost(ctx)
			if host != "" {
				host = "/" + host // as Kafka shows it
			}
			if r := c.Join(ctx, req, h.ClientID, host); r != nil {
				return r
			}
			return nil
		},
		func(code int16) kmsg.Response {
			r := req.ResponseKind().(*kmsg.JoinGroupResponse)
			r.ErrorCode, r.Generation, r.MemberID = code, -1, req.MemberID
			return r
		})
}
