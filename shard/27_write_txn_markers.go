package shard

// WriteTxnMarkers v0-v1: the transaction coordinator ends a transaction by
// writing a COMMIT or ABORT marker to each of its partitions (KIP-98). Only
// coordinators of this node send it, over the forward socket, for the
// partitions the receiving shard owns; from a client it is refused with
// CLUSTER_AUTHORIZATION_FAILED, as Kafka refuses it to principals without
// ClusterAction. txnMarkers is the coordinator's side: it writes markers
// to this shard's partitions directly and sends the others to their shards.

import (
	"context"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/shard/group"
	"github.com/ailurus/ailurus/shard/txn"
)

func init() { regKey(kmsg.WriteTxnMarkers, 0, 1, handleWriteTxnMarkers) }

func handleWriteTxnMarkers(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.WriteTxnMarkersRequest)
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	for _, m := range req.Markers {
		rm := kmsg.NewWriteTxnMarkersResponseMarker()
		rm.ProducerID = m.ProducerID
		for _, t := range m.Topics {
			rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			rt.Topic = t.Topic
			for _, pn := range t.Partitions {
				rp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				rp.Partition = pn
				if !isInternal(ctx) {
					rp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
				} else {
					rp.ErrorCode = s.writeLocalMarker(ctx, t.Topic, pn, m.ProducerID, m.ProducerEpoch, m.Committed, m.CoordinatorEpoch)
				}
				rt.Partitions = append(rt.Partitions, rp)
			}
			rm.Topics = append(rm.Topics, rt)
		}
		resp.Markers = append(resp.Markers, rm)
	}
	return resp, nil
}

// writeLocalMarker writes one marker to a partition of this shard and, for
// a __consumer_offsets partition, settles the producer's pending
// transactional offsets in its group coordinator.
func (s *Shard) writeLocalMarker(ctx context.Context, topic string, p int32, pid int64, epoch int16, commit bool, coordEpoch int32) int16 {
	part, _, code := s.resolve(ctx, topic, p)
	if code != 0 {
		return code
	}
	if part == nil { // another shard's: only coordinators of this node ask, and they route first
		return kerr.NotLeaderForPartition.Code
	}
	r := part.writeOwn(controlBatch(pid, epoch, commit, coordEpoch), pid, epoch)
	if r.errCode != 0 {
		return r.errCode
	}
	if topic == group.Topic {
		if c := s.groups.get(p); c != nil {
			c.Marker(pid, commit)
		}
	}
	return 0
}

// txnMarkers writes a coordinator's markers (txn.Markers).
type txnMarkers struct{ s *Shard }

var _ txn.Markers = txnMarkers{}

func (m txnMarkers) WriteMarkers(ctx context.Context, pid int64, epoch int16, commit bool, coordEpoch int32, tps []txn.TP) error {
	s := m.s
	remote := map[int]*kmsg.WriteTxnMarkersRequest{}
	var errs []error
	var mu sync.Mutex
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for _, tp := range tps {
		rte, owner := s.routeOf(tp.Topic, tp.Partition)
		switch rte {
		case routeUnknown: // the topic is gone: nothing to end there
		case routeElsewhere:
			fail(fmt.Errorf("%s/%d is not on this node", tp.Topic, tp.Partition))
		case routeLocal:
			wg.Add(1)
			go func() {
				defer wg.Done()
				if code := s.writeLocalMarker(ctx, tp.Topic, tp.Partition, pid, epoch, commit, coordEpoch); code != 0 && code != kerr.UnknownTopicOrPartition.Code {
					fail(fmt.Errorf("marker on %s/%d: %w", tp.Topic, tp.Partition, kerr.ErrorForCode(code)))
				}
			}()
		case routeShard:
			req := remote[owner]
			if req == nil {
				req = kmsg.NewPtrWriteTxnMarkersRequest()
				req.SetVersion(1)
				mk := kmsg.NewWriteTxnMarkersRequestMarker()
				mk.ProducerID, mk.ProducerEpoch, mk.Committed, mk.CoordinatorEpoch = pid, epoch, commit, coordEpoch
				req.Markers = append(req.Markers, mk)
				remote[owner] = req
			}
			mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
			mt.Topic, mt.Partitions = tp.Topic, []int32{tp.Partition}
			req.Markers[0].Topics = append(req.Markers[0].Topics, mt)
		}
	}
	for owner, req := range remote {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kr, err := s.fwd.call(ctx, owner, req)
			if err != nil {
				fail(fmt.Errorf("markers to shard %d: %w", owner, err))
				return
			}
			for _, rm := range kr.(*kmsg.WriteTxnMarkersResponse).Markers {
				for _, rt := range rm.Topics {
					for _, rp := range rt.Partitions {
						if rp.ErrorCode != 0 && rp.ErrorCode != kerr.UnknownTopicOrPartition.Code {
							fail(fmt.Errorf("marker on %s/%d: %w", rt.Topic, rp.Partition, kerr.ErrorForCode(rp.ErrorCode)))
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}
