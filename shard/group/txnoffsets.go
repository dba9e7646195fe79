package group

// Transactional offset commits: TxnOffsetCommit (KIP-98), with the member
// and generation checks of KIP-447. The offsets are written to the group's
// partition as a transactional batch of the producer and stay pending,
// invisible to OffsetFetch, until the transaction coordinator writes the
// producer's COMMIT marker to this partition (then they become the group's
// committed offsets) or its ABORT marker (then they are dropped). Replay
// after a restart follows the same records and markers.

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TxnLog is a Log that can write a producer's transactional batch.
type TxnLog interface {
	AppendTxn(ctx context.Context, pid int64, epoch int16, recs []Record) error
}

// txnPending is one producer's pending offsets in one group.
type txnPending map[string]map[int32]committed

// TxnCommit serves TxnOffsetCommit.
func (p *Partition) TxnCommit(ctx context.Context, req *kmsg.TxnOffsetCommitRequest) *kmsg.TxnOffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, pp := range t.Partitions {
			rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			rp.Partition = pp.Partition
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	fail := func(code int16) *kmsg.TxnOffsetCommitResponse {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				if resp.Topics[i].Partitions[j].ErrorCode == 0 {
					resp.Topics[i].Partitions[j].ErrorCode = code
				}
			}
		}
		return resp
	}
	tl, ok := p.cfg.Log.(TxnLog)
	switch {
	case req.Group == "":
		return fail(codeInvalidGroupID)
	case p.Closed():
		return fail(codeNotCoordinator)
	case !ok:
		return fail(kerr.UnsupportedVersion.Code)
	}
	// Kafka creates a group that does not exist yet: a transactional
	// producer may commit for a group no consumer has joined.
	g := p.group(req.Group, true)
	defer g.mu().Unlock()
	if req.Version >= 3 && g.cg != nil { // a KIP-848 group: the member epoch instead of the generation
		if code := g.checkConsumerCommit(req.MemberID, req.Generation, true); code != 0 {
			return fail(code)
		}
	} else if req.Version >= 3 { // KIP-447: the member and generation are checked when given
		if req.MemberID != "" {
			if _, known := g.members[req.MemberID]; !known {
				return fail(codeUnknownMemberID)
			}
		}
		if req.Generation >= 0 && req.Generation != g.generation {
			return fail(codeIllegalGeneration)
		}
	}
	now := g.now().UnixMilli()
	var recs []Record
	pend := txnPending{}
	for i, t := range req.Topics {
		for j, pp := range t.Partitions {
			rp := &resp.Topics[i].Partitions[j]
			epoch := pp.LeaderEpoch
			if req.Version < 2 {
				epoch = -1
			}
			c, code := p.toCommit(t.Topic, pp.Partition, pp.Offset, epoch, pp.Metadata, now)
			if rp.ErrorCode = code; code != 0 {
				continue
			}
			recs = append(recs, Record{Key: offsetKey(g.id, t.Topic, pp.Partition), Value: offsetValue(c)})
			pend.set(t.Topic, pp.Partition, c)
		}
	}
	if len(recs) == 0 {
		return resp
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := tl.AppendTxn(wctx, req.ProducerID, req.ProducerEpoch, recs); err != nil {
		p.log.Warn("transactional offset commit failed", "group", g.id, "producer_id", req.ProducerID, "err", err)
		code := codeCoordinatorNotAvail
		var ke *kerr.Error
		switch {
		case err == ErrNotCoordinator:
			code = codeNotCoordinator
		case errors.As(err, &ke): // the producer's epoch was fenced on the partition
			code = ke.Code
		}
		return fail(code)
	}
	p.addPending(g, req.ProducerID, pend)
	return resp
}

func (t txnPending) set(topic string, partition int32, c committed) {
	m := t[topic]
	if m == nil {
		m = map[int32]committed{}
		t[topic] = m
	}
	m[partition] = c
}

// addPending (g locked) records a producer's pending offsets in g.
func (p *Partition) addPending(g *Group, pid int64, pend txnPending) {
	if g.txn == nil {
		g.txn = map[int64]txnPending{}
	}
	cur := g.txn[pid]
	if cur == nil {
		cur = txnPending{}
		g.txn[pid] = cur
	}
	for t, ps := range pend {
		for pn, c := range ps {
			cur.set(t, pn, c)
		}
	}
	p.mu.Lock()
	if p.txnGroups == nil {
		p.txnGroups = map[int64]map[string]struct{}{}
	}
	if p.txnGroups[pid] == nil {
		p.txnGroups[pid] = map[string]struct{}{}
	}
	p.txnGroups[pid][g.id] = struct{}{}
	p.mu.Unlock()
}

// Marker applies a transaction marker of producer pid written (durably) to
// this partition: on commit its pending offsets become committed, on abort
// they are dropped.
func (p *Partition) Marker(pid int64, commit bool) {
	p.mu.Lock()
	ids := p.txnGroups[pid]
	delete(p.txnGroups, pid)
	p.mu.Unlock()
	for id := range ids {
		g := p.group(id, false)
		if g == nil {
			continue
		}
		if pend := g.txn[pid]; pend != nil && commit {
			for t, ps := range pend {
				for pn, c := range ps {
					g.setOffset(t, pn, c)
				}
			}
		}
		delete(g.txn, pid)
		g.mu().Unlock()
	}
}

// LoadTxn replays one record of a producer's transactional batch.
func (p *Partition) LoadTxn(pid int64, key, value []byte) {
	if len(key) < 2 || value == nil {
		return
	}
	if version := int16(key[0])<<8 | int16(key[1]); version > 1 {
		return
	}
	var k kmsg.OffsetCommitKey
	var v kmsg.OffsetCommitValue
	if k.ReadFrom(key) != nil || v.ReadFrom(value) != nil {
		return
	}
	g := p.loadGroup(k.Group)
	pend := txnPending{}
	pend.set(k.Topic, k.Partition, committed{offset: v.Offset, epoch: v.LeaderEpoch, metadata: v.Metadata, commitTime: v.CommitTimestamp})
	p.addPending(g, pid, pend)
}

// unstable (g locked) reports whether an open transaction holds an offset
// of topic/partition in g: OffsetFetch with RequireStable (KIP-447) then
// answers UNSTABLE_OFFSET_COMMIT and the client retries.
func (g *Group) unstable(topic string, partition int32) bool {
	for _, pend := range g.txn {
		if _, ok := pend[topic][partition]; ok {
			return true
		}
	}
	return false
}
