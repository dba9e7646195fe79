package shard

// The group coordinator's place in the shard: one group.Partition per
// partition of __consumer_offsets this shard owns, loaded from the
// partition's log when it opens (openPartition hook) and dropped when it
// closes (partition.close hook). Requests for a group are served by the
// shard owning the group's partition; other shards forward them there, as
// produce does.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/batch"
	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/internal/storage"
	"github.com/ailurus/ailurus/shard/group"
)

// coordSet holds the coordinators of one internal topic's partitions that
// this shard owns (group or transaction coordinators). It is written by
// the partitions' follow goroutine (load/unload) and read by request
// handlers.
type coordSet[C interface {
	Closed() bool
	Close()
}] struct {
	mu    sync.Mutex
	parts map[int32]C
}

func (cs *coordSet[C]) lookup(p int32) (C, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, ok := cs.parts[p]
	return c, ok
}

// all is every coordinator of the set (the List requests).
func (cs *coordSet[C]) all() []C {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := make([]C, 0, len(cs.parts))
	for _, c := range cs.parts {
		out = append(out, c)
	}
	return out
}

// install makes c partition p's coordinator, closing a previous one.
func (cs *coordSet[C]) install(p int32, c C) {
	cs.mu.Lock()
	old, ok := cs.parts[p]
	if cs.parts == nil {
		cs.parts = map[int32]C{}
	}
	cs.parts[p] = c
	cs.mu.Unlock()
	if ok {
		old.Close()
	}
}

// remove closes and forgets partition p's coordinator.
func (cs *coordSet[C]) remove(p int32) {
	cs.mu.Lock()
	c, ok := cs.parts[p]
	delete(cs.parts, p)
	cs.mu.Unlock()
	if ok {
		c.Close()
	}
}

// groupCoordinator holds the coordinators of this shard's
// __consumer_offsets partitions.
type groupCoordinator struct {
	coordSet[*group.Partition]
	s *Shard
}

func newGroupCoordinator(s *Shard) *groupCoordinator { return &groupCoordinator{s: s} }

func (gc *groupCoordinator) get(p int32) *group.Partition {
	c, _ := gc.lookup(p)
	return c
}

// internalTopic says whether topic is one the node keeps its own state in.
func (s *Shard) internalTopic(topic string) bool {
	t, ok := s.cfg.Catalog.State().Topic(topic)
	return ok && t.Internal
}

// partitionExists says whether topic has partition part, for coordinators
// that check the partitions named in commits and transactions.
func (s *Shard) partitionExists(topic string, part int32) bool {
	t, ok := s.cfg.Catalog.State().Topic(topic)
	return ok && part >= 0 && int(part) < len(t.Partitions)
}

// load replays the log of a __consumer_offsets partition that has just
// opened and starts serving its groups. Called from openPartition.
func (gc *groupCoordinator) load(p *partition) error {
	if p.topic != group.Topic {
		return nil
	}
	cc := gc.s.cfg.Catalog.State().ClusterConfig
	c := group.NewPartition(group.Config{
		Log:                   partitionLog{s: gc.s, id: p.id},
		Logger:                gc.s.log,
		InitialRebalanceDelay: time.Duration(cc.Int("group_initial_rebalance_delay", 3000)) * time.Millisecond,
		MinSession:            time.Duration(cc.Int("group_min_session_timeout_ms", 6000)) * time.Millisecond,
		MaxSession:            time.Duration(cc.Int("group_max_session_timeout_ms", 300000)) * time.Millisecond,
		ValidPartition:        gc.s.partitionExists,
		// KIP-848 consumer groups (not cluster properties yet: the defaults
		// unless set in the cluster config).
		OffsetRetention:   time.Duration(cc.Int("group_offset_retention_sec", 7*24*3600)) * time.Second,
		ConsumerSession:   time.Duration(cc.Int("group_consumer_session_timeout_ms", 45000)) * time.Millisecond,
		ConsumerHeartbeat: time.Duration(cc.Int("group_consumer_heartbeat_interval_ms", 5000)) * time.Millisecond,
		LookupTopic:       gc.s.lookupTopic,
		ListTopics:        gc.s.listTopics,
	})
	n, err := replay(p.log, func(h batch.Header, key, value []byte) {
		switch {
		case h.IsControl():
			if commit, ok := markerType(key); ok {
				c.Marker(h.ProducerID, commit)
			}
		case h.IsTransactional():
			c.LoadTxn(h.ProducerID, key, value)
		default:
			c.Load(key, value)
		}
	})
	if err != nil {
		return fmt.Errorf("load groups of %s/%d: %w", p.topic, p.id, err)
	}
	c.LoadDone()
	c.Start()
	gc.install(p.id, c)
	gc.s.log.Info("group coordinator loaded", "partition", p.id, "records", n)
	return nil
}

// unload stops the coordinator of a closing partition. Called from
// partition.close.
func (gc *groupCoordinator) unload(p *partition) {
	if p.topic == group.Topic {
		gc.remove(p.id)
	}
}

// replay feeds every record of the log to fn with its batch's header, in
// offset order (control batches included).
func replay(l *storage.Log, fn func(h batch.Header, key, value []byte)) (int, error) {
	var slice storage.Slice
	sl := &slice
	defer sl.Release()
	var dec batch.Decoder
	var buf []byte
	n := 0
	off, end := l.StartOffset(), l.EndOffset()
	for off < end {
		if err := l.Read(off, end, 1<<20, sl); err != nil {
			return n, err
		}
		if sl.Size == 0 || sl.NextOffset <= off {
			break
		}
		var err error
		buf, err = sl.AppendTo(buf[:0])
		if err != nil {
			return n, err
		}
		off = sl.NextOffset
		sl.Release()
		bs, err := splitBatches(buf)
		if err != nil {
			return n, err
		}
		for _, b := range bs {
			h, it, err := dec.Records(b)
			if err != nil {
				return n, err
			}
			for {
				r, ok := it.Next()
				if !ok {
					break
				}
				fn(h, r.Key, r.Value)
				n++
			}
			if err := it.Err(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// partitionLog writes a coordinator's records through its partition's
// produce path: one batch, committed by the partition's Raft group and
// fsynced before Append returns (acks=all).
type partitionLog struct {
	s  *Shard
	id int32
}

var (
	_ group.Log    = partitionLog{}
	_ group.TxnLog = partitionLog{}
)

func (pl partitionLog) Append(ctx context.Context, recs []group.Record) error {
	return appendInternal(ctx, pl.s, group.Topic, pl.id, -1, -1, recs, group.ErrNotCoordinator)
}

// AppendTxn writes the records as a transactional batch of producer pid
// (TxnOffsetCommit); its transaction's marker settles them.
func (pl partitionLog) AppendTxn(ctx context.Context, pid int64, epoch int16, recs []group.Record) error {
	return appendInternal(ctx, pl.s, group.Topic, pl.id, pid, epoch, recs, group.ErrNotCoordinator)
}

// appendInternal writes a coordinator's records to a partition of an
// internal topic as one batch (a transactional one of producer pid when pid
// >= 0) and returns once it is committed and fsynced; notCoord is the error
// for a partition no longer served here.
func appendInternal[R ~struct{ Key, Value []byte }](ctx context.Context, s *Shard, topic string, id int32, pid int64, epoch int16, recs []R, notCoord error) error {
	part := s.parts.await(ctx, topic, id)
	if part == nil {
		return notCoord
	}
	var body []byte
	for i, r := range recs {
		kv := struct{ Key, Value []byte }(r)
		body = batch.AppendRecord(body, batch.Record{OffsetDelta: int32(i), Key: kv.Key, Value: kv.Value})
	}
	now := time.Now().UnixMilli()
	h := batch.Header{LastOffsetDelta: int32(len(recs) - 1), BaseTimestamp: now, MaxTimestamp: now,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: int32(len(recs))}
	var res produceResult
	if pid < 0 {
		res = part.commit(part.write(batch.AppendBatch(nil, h, body)))
	} else {
		h.ProducerID, h.ProducerEpoch, h.Attributes = pid, epoch, batch.AttrTransactional
		res = part.writeOwn(batch.AppendBatch(nil, h, body), pid, epoch)
	}
	if res.errCode != 0 {
		if res.errCode == kerr.NotLeaderForPartition.Code {
			return notCoord
		}
		return fmt.Errorf("write %s/%d: %w: %s", topic, id, kerr.ErrorForCode(res.errCode), res.msg)
	}
	return nil
}

// coordTarget is where a coordinator's requests go: a group's (C is
// *group.Partition) or a transactional id's (*txn.Partition).
type coordTarget[C interface{ Closed() bool }] struct {
	coord C     // served here when found
	found bool  //
	owner int   // >= 0: forward to this shard
	code  int16 // neither: answer with this error
}

type groupTarget = coordTarget[*group.Partition]

// groupRoute finds the coordinator of a group: its __consumer_offsets
// partition is abs(hashCode(group)) % partitions, as Kafka maps it.
func (s *Shard) groupRoute(ctx context.Context, id string) groupTarget {
	return coordRoute(ctx, s, group.Topic, id, s.groups.lookup)
}

// coordRoute finds the coordinator of key (a group or transactional id)
// among the partitions of the internal topic: partition
// abs(hashCode(key)) % partitions, as Kafka maps both.
func coordRoute[C interface{ Closed() bool }](ctx context.Context, s *Shard, topic, key string, get func(int32) (C, bool)) coordTarget[C] {
	t, ok := s.cfg.Catalog.State().Topic(topic)
	if !ok || len(t.Partitions) == 0 {
		return coordTarget[C]{owner: -1, code: kerr.CoordinatorNotAvailable.Code}
	}
	p := group.Partitioner(key, int32(len(t.Partitions)))
	r, owner := s.routeOf(topic, p)
	switch {
	case r == routeShard && !isInternal(ctx):
		return coordTarget[C]{owner: owner}
	case r == routeLocal:
		if c, ok := get(p); ok && !c.Closed() {
			return coordTarget[C]{coord: c, found: true, owner: -1}
		}
		// Opening or loading: wait as produce does for a partition placed here.
		if s.parts.await(ctx, topic, p) != nil {
			if c, ok := get(p); ok {
				return coordTarget[C]{coord: c, found: true, owner: -1}
			}
		}
		return coordTarget[C]{owner: -1, code: kerr.CoordinatorLoadInProgress.Code}
	case r == routeUnknown:
		return coordTarget[C]{owner: -1, code: kerr.CoordinatorNotAvailable.Code}
	default:
		return coordTarget[C]{owner: -1, code: kerr.NotCoordinator.Code}
	}
}

// eachGroup answers a request that names n groups, in order: a group
// coordinated here is served by serve, one no coordinator can take gets
// refuse's answer with the error code, and the rest are gathered per
// coordinating shard and sent there in one request (forward builds it from
// the request's indexes, answers reads its per-group answers in the same
// order); the groups of a shard that does not answer get NOT_COORDINATOR.
func eachGroup[G any](ctx context.Context, s *Shard, h kwire.Header, n int, name func(i int) string,
	serve func(c *group.Partition, i int) G, refuse func(i int, code int16) G,
	forward func(idx []int) kmsg.Request, answers func(kmsg.Response) []G) []G {
	out := make([]G, n)
	remote := map[int][]int{}
	for i := range n {
		tg := s.groupRoute(ctx, name(i))
		switch {
		case tg.owner >= 0:
			remote[tg.owner] = append(remote[tg.owner], i)
		case !tg.found:
			out[i] = refuse(i, tg.code)
		default:
			out[i] = serve(tg.coord, i)
		}
	}
	for owner, idx := range remote {
		var got []G
		if r, err := s.forwardGroup(ctx, owner, h.ClientID, 0, forward(idx)); err == nil {
			got = answers(r)
		}
		for k, i := range idx {
			if k < len(got) {
				out[i] = got[k]
			} else {
				out[i] = refuse(i, coordinatorGone)
			}
		}
	}
	return out
}

type fwdClientIDKey struct{}

// forwardGroup sends a group request to the shard that coordinates the
// group, keeping the client's id, and waiting up to wait (a JoinGroup may
// wait a whole rebalance timeout).
func (s *Shard) forwardGroup(ctx context.Context, owner int, clientID string, wait time.Duration, req kmsg.Request) (kmsg.Response, error) {
	ctx = context.WithValue(ctx, fwdClientIDKey{}, clientID)
	ctx, cancel := context.WithTimeout(ctx, wait+15*time.Second)
	defer cancel()
	return s.fwd.call(ctx, owner, req)
}

// forwardClientID is the client id a forwarded request carries.
func forwardClientID(ctx context.Context) string {
	if c, ok := ctx.Value(fwdClientIDKey{}).(string); ok {
		return c
	}
	return "ailurus-forward"
}

// atCoordinator serves a request about one group: forwarded to the shard
// that coordinates the group (wait extends the forward's deadline for
// requests that last a rebalance), served here by serve, or answered by
// refuse with the error code when no coordinator can take it. serve returns
// nil when ctx ended while it waited (the client went away).
func (s *Shard) atCoordinator(ctx context.Context, h kwire.Header, id string, wait time.Duration, req kmsg.Request,
	serve func(*group.Partition) kmsg.Response, refuse func(code int16) kmsg.Response) (kmsg.Response, error) {
	return atCoord(ctx, s, h, s.groupRoute(ctx, id), wait, req, serve, refuse)
}

// atCoord serves a request at the coordinator tg found (see atCoordinator).
func atCoord[C interface{ Closed() bool }](ctx context.Context, s *Shard, h kwire.Header, tg coordTarget[C], wait time.Duration, req kmsg.Request,
	serve func(C) kmsg.Response, refuse func(code int16) kmsg.Response) (kmsg.Response, error) {
	if tg.owner >= 0 {
		r, err := s.forwardGroup(ctx, tg.owner, h.ClientID, wait, req)
		if err == nil {
			return r, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return refuse(coordinatorGone), nil
	}
	if !tg.found {
		return refuse(tg.code), nil
	}
	if r := serve(tg.coord); r != nil {
		return r, nil
	}
	return nil, ctx.Err()
}
