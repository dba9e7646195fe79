package shard

// The transaction coordinator's place in the shard: one txn.Partition per
// partition of __transaction_state this shard owns, loaded from the
// partition's log when it opens and dropped when it closes, as the group
// coordinator is (group_coord.go). A transactional id's requests are served
// by the shard owning its partition; other shards forward them there.

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/shard/group"
	"github.com/ailurus/ailurus/shard/txn"
)

type txnCoordinator struct {
	coordSet[*txn.Partition]
	s *Shard
}

func newTxnCoordinator(s *Shard) *txnCoordinator { return &txnCoordinator{s: s} }

// load replays a __transaction_state partition that has just opened and
// starts its coordinator: transactions found prepared are finished, open
// ones time out as before. Called from openPartition.
func (tc *txnCoordinator) load(p *partition) error {
	if p.topic != txn.Topic {
		return nil
	}
	s := tc.s
	cc := s.cfg.Catalog.State().ClusterConfig
	c := txn.NewPartition(txn.Config{
		Log:              txnLog{s: s, id: p.id},
		Markers:          txnMarkers{s: s},
		Logger:           s.log,
		NextPID:          s.pids.next,
		MaxTimeout:       time.Duration(cc.Int("transaction_max_timeout_ms", 15*60*1000)) * time.Millisecond,
		CoordinatorEpoch: p.leaderEpoch(),
		ValidPartition:   s.partitionExists,
		GroupPartition: func(g string) int32 {
			t, ok := s.cfg.Catalog.State().Topic(group.Topic)
			if !ok || len(t.Partitions) == 0 {
				return 0
			}
			return group.Partitioner(g, int32(len(t.Partitions)))
		},
	})
	n, err := replay(p.log, func(h batch.Header, key, value []byte) {
		if !h.IsControl() {
			c.Load(key, value)
		}
	})
	if err != nil {
		return fmt.Errorf("load transactions of %s/%d: %w", p.topic, p.id, err)
	}
	c.LoadDone()
	c.Start()
	tc.install(p.id, c)
	s.log.Info("transaction coordinator loaded", "partition", p.id, "records", n)
	return nil
}

// unload stops the coordinator of a closing partition.
func (tc *txnCoordinator) unload(p *partition) {
	if p.topic == txn.Topic {
		tc.remove(p.id)
	}
}

// txnLog writes a coordinator's records to its partition (acks=all).
type txnLog struct {
	s  *Shard
	id int32
}

var _ txn.Log = txnLog{}

func (tl txnLog) Append(ctx context.Context, recs []txn.Record) error {
	return appendInternal(ctx, tl.s, txn.Topic, tl.id, -1, -1, recs, txn.ErrNotCoordinator)
}

// atTxnCoordinator serves a request about one transactional id where its
// coordinator lives (see atCoordinator).
func (s *Shard) atTxnCoordinator(ctx context.Context, h kwire.Header, id string, req kmsg.Request,
	serve func(*txn.Partition) kmsg.Response, refuse func(code int16) kmsg.Response) (kmsg.Response, error) {
	if s.cfg.Catalog.State().ClusterConfig["enable_transactions"] == "false" {
		return refuse(kerr.TransactionalIDAuthorizationFailed.Code), nil
	}
	if id == "" {
		return refuse(kerr.InvalidRequest.Code), nil
	}
	tg := coordRoute(ctx, s, txn.Topic, id, s.txns.lookup)
	return atCoord(ctx, s, h, tg, time.Minute, req, serve, refuse)
}
