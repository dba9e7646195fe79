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

// groupCoordinator holds the coordinators of this shard's
// __consumer_offsets partitions. Its map is written by the partitions'
// follow goroutine (load/unload) and read by request handlers.
type groupCoordinator struct {
	s     *Shard
	mu    sync.Mutex
	parts map[int32]*group.Partition
}

func newGroupCoordinator(s *Shard) *groupCoordinator {
	return &groupCoordinator{s: s, parts: map[int32]*group.Partition{}}
}

func (gc *groupCoordinator) get(p int32) *group.Partition {
	gc.mu.Lock()
	defer gc.mu.Unlock()
	return gc.parts[p]
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
		ValidPartition: func(topic string, part int32) bool {
			t, ok := gc.s.cfg.Catalog.State().Topic(topic)
			return ok && part >= 0 && int(part) < len(t.Partitions)
		},
	})
	n, err := replay(p.log, c.Load)
	if err != nil {
		return fmt.Errorf("load groups of %s/%d: %w", p.topic, p.id, err)
	}
	c.LoadDone()
	c.Start()
	gc.mu.Lock()
	if old := gc.parts[p.id]; old != nil {
		old.Close()
	}
	gc.parts[p.id] = c
	gc.mu.Unlock()
	gc.s.log.Info("group coordinator loaded", "partition", p.id, "records", n)
	return nil
}

// unload stops the coordinator of a closing partition. Called from
// partition.close.
func (gc *groupCoordinator) unload(p *partition) {
	if p.topic != group.Topic {
		return
	}
	gc.mu.Lock()
	c := gc.parts[p.id]
	delete(gc.parts, p.id)
	gc.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// replay feeds every record of the log to fn, in offset order.
func replay(l *storage.Log, fn func(key, value []byte)) (int, error) {
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
			if h.IsControl() {
				continue
			}
			for {
				r, ok := it.Next()
				if !ok {
					break
				}
				fn(r.Key, r.Value)
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

var _ group.Log = partitionLog{}

func (pl partitionLog) Append(ctx context.Context, recs []group.Record) error {
	part := pl.s.parts.await(ctx, group.Topic, pl.id)
	if part == nil {
		return group.ErrNotCoordinator
	}
	var body []byte
	for i, r := range recs {
		body = batch.AppendRecord(body, batch.Record{OffsetDelta: int32(i), Key: r.Key, Value: r.Value})
	}
	now := time.Now().UnixMilli()
	b := batch.AppendBatch(nil, batch.Header{LastOffsetDelta: int32(len(recs) - 1), BaseTimestamp: now, MaxTimestamp: now,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: int32(len(recs))}, body)
	res := part.commit(part.write(b))
	if res.errCode != 0 {
		if res.errCode == kerr.NotLeaderForPartition.Code {
			return group.ErrNotCoordinator
		}
		return fmt.Errorf("write %s/%d: %w: %s", group.Topic, pl.id, kerr.ErrorForCode(res.errCode), res.msg)
	}
	return nil
}

// groupTarget is where a group's requests go.
type groupTarget struct {
	coord *group.Partition // served here
	owner int              // >= 0: forward to this shard
	code  int16            // neither: answer with this error
}

// groupRoute finds the coordinator of a group: its __consumer_offsets
// partition is abs(hashCode(group)) % partitions, as Kafka maps it.
func (s *Shard) groupRoute(ctx context.Context, id string) groupTarget {
	t, ok := s.cfg.Catalog.State().Topic(group.Topic)
	if !ok || len(t.Partitions) == 0 {
		return groupTarget{owner: -1, code: kerr.CoordinatorNotAvailable.Code}
	}
	p := group.Partitioner(id, int32(len(t.Partitions)))
	r, owner := s.routeOf(group.Topic, p)
	switch {
	case r == routeShard && !isInternal(ctx):
		return groupTarget{owner: owner}
	case r == routeLocal:
		if c := s.groups.get(p); c != nil && !c.Closed() {
			return groupTarget{coord: c, owner: -1}
		}
		// Opening or loading: wait as produce does for a partition placed here.
		if s.parts.await(ctx, group.Topic, p) != nil {
			if c := s.groups.get(p); c != nil {
				return groupTarget{coord: c, owner: -1}
			}
		}
		return groupTarget{owner: -1, code: kerr.CoordinatorLoadInProgress.Code}
	case r == routeUnknown:
		return groupTarget{owner: -1, code: kerr.CoordinatorNotAvailable.Code}
	default:
		return groupTarget{owner: -1, code: kerr.NotCoordinator.Code}
	}
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
	tg := s.groupRoute(ctx, id)
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
	if tg.coord == nil {
		return refuse(tg.code), nil
	}
	if r := serve(tg.coord); r != nil {
		return r, nil
	}
	return nil, ctx.Err()
}
