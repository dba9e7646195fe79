package shard

// InitProducerId v0-v4. Without a transactional id: a producer id unique
// across the cluster and restarts, epoch 0 (idempotent producers). With
// one: served by the transactional id's coordinator (txn_coord.go), which
// bumps the epoch to fence older instances (KIP-98, KIP-360).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/shard/txn"
)

func init() { regKey(kmsg.InitProducerID, 0, 4, handleInitProducerID) }

func handleInitProducerID(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.InitProducerIDRequest)
	refuse := func(code int16) kmsg.Response {
		resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
		resp.ProducerID, resp.ProducerEpoch, resp.ErrorCode = -1, -1, code
		return resp
	}
	if req.TransactionalID != nil {
		return s.atTxnCoordinator(ctx, h, *req.TransactionalID, req,
			func(c *txn.Partition) kmsg.Response { return c.InitProducerID(ctx, req) }, refuse)
	}
	id, err := s.pids.next()
	if err != nil {
		s.log.Error("allocate producer id", "err", err)
		return refuse(kerr.KafkaStorageError.Code), nil
	}
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return resp, nil
}
