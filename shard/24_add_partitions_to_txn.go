package shard

// AddPartitionsToTxn v0-v3, AddOffsetsToTxn v0-v3 and EndTxn v0-v3: a
// transactional producer's calls to its coordinator (KIP-98), served by the
// shard owning the transactional id's __transaction_state partition
// (txn_coord.go, shard/txn). AddPartitionsToTxn v4+ (KIP-890, batched, for
// brokers) is not offered.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/shard/txn"
)

func init() {
	regKey(kmsg.AddPartitionsToTxn, 0, 3, handleAddPartitionsToTxn)
	regKey(kmsg.AddOffsetsToTxn, 0, 3, handleAddOffsetsToTxn)
	regKey(kmsg.EndTxn, 0, 3, handleEndTxn)
}

func handleAddPartitionsToTxn(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.AddPartitionsToTxnRequest)
	return s.atTxnCoordinator(ctx, h, req.TransactionalID, req,
		func(c *txn.Partition) kmsg.Response { return c.AddPartitions(ctx, req) },
		func(code int16) kmsg.Response {
			resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
			for _, t := range req.Topics {
				rt := kmsg.NewAddPartitionsToTxnResponseTopic()
				rt.Topic = t.Topic
				for _, p := range t.Partitions {
					rp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
					rp.Partition, rp.ErrorCode = p, code
					rt.Partitions = append(rt.Partitions, rp)
				}
				resp.Topics = append(resp.Topics, rt)
			}
			return resp
		})
}

func handleAddOffsetsToTxn(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.AddOffsetsToTxnRequest)
	return s.atTxnCoordinator(ctx, h, req.TransactionalID, req,
		func(c *txn.Partition) kmsg.Response { return c.AddOffsets(ctx, req) },
		func(code int16) kmsg.Response {
			resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
			resp.ErrorCode = code
			return resp
		})
}

func handleEndTxn(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.EndTxnRequest)
	return s.atTxnCoordinator(ctx, h, req.TransactionalID, req,
		func(c *txn.Partition) kmsg.Response { return c.EndTxn(ctx, req) },
		func(code int16) kmsg.Response {
			resp := req.ResponseKind().(*kmsg.EndTxnResponse)
			resp.ErrorCode = code
			return resp
		})
}
