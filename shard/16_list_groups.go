package shard

// ListGroups v0-v4 (v4: StatesFilter, KIP-518). The shard that receives the
// request asks every other shard of the node for its groups.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.ListGroups, 0, 4, handleListGroups) }

func handleListGroups(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.ListGroupsRequest)
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	s.groups.mu.Lock()
	coords := make([]interface {
		List([]string) []kmsg.ListGroupsResponseGroup
	}, 0, len(s.groups.parts))
	for _, c := range s.groups.parts {
		coords = append(coords, c)
	}
	s.groups.mu.Unlock()
	for _, c := range coords {
		resp.Groups = append(resp.Groups, c.List(req.StatesFilter)...)
	}
	if isInternal(ctx) {
		return resp, nil
	}
	shards := 1
	if b, ok := s.cfg.Catalog.State().Broker(s.cfg.NodeID); ok {
		shards = b.Shards
	}
	for i := 0; i < shards; i++ {
		if i == s.cfg.ID {
			continue
		}
		r, err := s.forwardGroup(ctx, i, h.ClientID, 0, req)
		if err != nil {
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
			continue
		}
		fr := r.(*kmsg.ListGroupsResponse)
		if fr.ErrorCode != 0 {
			resp.ErrorCode = fr.ErrorCode
		}
		resp.Groups = append(resp.Groups, fr.Groups...)
	}
	return resp, nil
}
