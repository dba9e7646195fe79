package shard

// ListGroups v0-v5 (v4: StatesFilter, KIP-518; v5: TypesFilter and the
// group type, classic or consumer, KIP-848). The shard that receives the
// request asks every other shard of the node for its groups.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.ListGroups, 0, 5, handleListGroups) }

func handleListGroups(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.ListGroupsRequest)
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	for _, c := range s.groups.all() {
		resp.Groups = append(resp.Groups, c.List(req.StatesFilter, req.TypesFilter)...)
	}
	s.askOtherShards(ctx, h, req, &resp.ErrorCode, func(r kmsg.Response) int16 {
		fr := r.(*kmsg.ListGroupsResponse)
		resp.Groups = append(resp.Groups, fr.Groups...)
		return fr.ErrorCode
	})
	return resp, nil
}

// askOtherShards sends req, a question every shard answers for its own
// coordinators, to the node's other shards, unless it came from one, and
// hands each answer to take, which returns the answer's error code. A
// non-zero code, or COORDINATOR_NOT_AVAILABLE for a shard that did not
// answer, is stored in *code.
func (s *Shard) askOtherShards(ctx context.Context, h kwire.Header, req kmsg.Request, code *int16, take func(kmsg.Response) int16) {
	if isInternal(ctx) {
		return
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
			*code = kerr.CoordinatorNotAvailable.Code
			continue
		}
		if c := take(r); c != 0 {
			*code = c
		}
	}
}
