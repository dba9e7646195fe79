package shard

// FindCoordinator v0-v4 (v4: batched CoordinatorKeys, KIP-699). Every shard
// serves the same port, so the coordinator of any group is this node; the
// group's requests are then routed to the shard owning its
// __consumer_offsets partition; a transactional id's (key type 1) to the
// shard owning its __transaction_state partition.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/shard/group"
	"github.com/ailurus/ailurus/shard/txn"
)

func init() { regKey(kmsg.FindCoordinator, 0, 4, handleFindCoordinator) }

func handleFindCoordinator(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	st := s.cfg.Catalog.State()
	find := func(key string) (int32, string, int32, int16) {
		topic := group.Topic
		switch req.CoordinatorType {
		case 0:
			if key == "" {
				return -1, "", -1, kerr.InvalidGroupID.Code
			}
		case 1:
			if key == "" {
				return -1, "", -1, kerr.InvalidRequest.Code
			}
			if st.ClusterConfig["enable_transactions"] == "false" {
				return -1, "", -1, kerr.TransactionalIDAuthorizationFailed.Code
			}
			topic = txn.Topic
		default:
			return -1, "", -1, kerr.InvalidRequest.Code
		}
		if _, ok := st.Topic(topic); !ok {
			return -1, "", -1, kerr.CoordinatorNotAvailable.Code
		}
		b, ok := st.Broker(s.cfg.NodeID)
		if !ok {
			return -1, "", -1, kerr.CoordinatorNotAvailable.Code
		}
		host, port := splitHostPort(b.KafkaAddr)
		return b.NodeID, host, port, 0
	}
	if req.Version >= 4 {
		for _, k := range req.CoordinatorKeys {
			c := kmsg.NewFindCoordinatorResponseCoordinator()
			c.Key = k
			c.NodeID, c.Host, c.Port, c.ErrorCode = find(k)
			resp.Coordinators = append(resp.Coordinators, c)
		}
		return resp, nil
	}
	resp.NodeID, resp.Host, resp.Port, resp.ErrorCode = find(req.CoordinatorKey)
	return resp, nil
}
