package shard

// DescribeTransactions v0 and ListTransactions v0-v1 (KIP-664): what the
// transaction coordinators know. Describe asks each id's coordinator;
// List asks every shard of the node for its coordinators' transactions.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/shard/txn"
)

func init() {
	regKey(kmsg.DescribeTransactions, 0, 0, handleDescribeTransactions)
	regKey(kmsg.ListTransactions, 0, 1, handleListTransactions)
}

func handleDescribeTransactions(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DescribeTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	for _, id := range req.TransactionalIDs {
		one := kmsg.NewPtrDescribeTransactionsRequest()
		one.SetVersion(req.Version)
		one.TransactionalIDs = []string{id}
		refuse := func(code int16) kmsg.Response {
			r := one.ResponseKind().(*kmsg.DescribeTransactionsResponse)
			st := kmsg.NewDescribeTransactionsResponseTransactionState()
			st.TransactionalID, st.ErrorCode, st.ProducerID, st.ProducerEpoch = id, code, -1, -1
			r.TransactionStates = append(r.TransactionStates, st)
			return r
		}
		r, err := s.atTxnCoordinator(ctx, h, id, one, func(c *txn.Partition) kmsg.Response {
			r := one.ResponseKind().(*kmsg.DescribeTransactionsResponse)
			r.TransactionStates = append(r.TransactionStates, c.Describe(id))
			return r
		}, refuse)
		if err != nil {
			return nil, err
		}
		resp.TransactionStates = append(resp.TransactionStates, r.(*kmsg.DescribeTransactionsResponse).TransactionStates...)
	}
	return resp, nil
}

func handleListTransactions(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.ListTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
	for _, c := range s.txns.all() {
		resp.TransactionStates = append(resp.TransactionStates, c.List(req)...)
	}
	s.askOtherShards(ctx, h, req, &resp.ErrorCode, func(r kmsg.Response) int16 {
		fr := r.(*kmsg.ListTransactionsResponse)
		resp.TransactionStates = append(resp.TransactionStates, fr.TransactionStates...)
		return fr.ErrorCode
	})
	return resp, nil
}
