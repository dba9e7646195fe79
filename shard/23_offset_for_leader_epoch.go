package shard

// OffsetForLeaderEpoch v0-v4 (KIP-101, KIP-320): for each partition, the
// end offset of the requested leader epoch. Our epoch is the partition's
// Raft term, the one written into batches and reported by ListOffsets. The
// current epoch ends at the log end offset; an older one at the base offset
// of the first segment written in a later epoch (segments carry their
// epoch), answered with the newest epoch at or below the requested one that
// has records (the requested one if it predates all the log holds). An
// epoch newer than ours, or -1, is answered -1/-1 as Kafka does. A
// CurrentLeaderEpoch (v2+, -1 for none) newer than ours is
// UNKNOWN_LEADER_EPOCH, older FENCED_LEADER_EPOCH. Other shards' partitions
// are forwarded.

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/internal/storage"
)

func init() { regKey(kmsg.OffsetForLeaderEpoch, 0, 4, handleOffsetForLeaderEpoch) }

func handleOffsetForLeaderEpoch(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.OffsetForLeaderEpochRequest)
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	var wg sync.WaitGroup
	for ti, t := range req.Topics {
		rt := kmsg.NewOffsetForLeaderEpochResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = make([]kmsg.OffsetForLeaderEpochResponseTopicPartition, len(t.Partitions))
		resp.Topics = append(resp.Topics, rt)
		for pi, p := range t.Partitions {
			rp := &resp.Topics[ti].Partitions[pi]
			*rp = kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			rp.Partition, rp.LeaderEpoch, rp.EndOffset = p.Partition, -1, -1
			part, owner, code := s.resolve(ctx, t.Topic, p.Partition)
			switch {
			case code != 0:
				rp.ErrorCode = code
			case part == nil:
				fr := kmsg.NewPtrOffsetForLeaderEpochRequest()
				fr.SetVersion(req.Version)
				fr.ReplicaID = req.ReplicaID
				ft := kmsg.NewOffsetForLeaderEpochRequestTopic()
				ft.Topic = t.Topic
				ft.Partitions = []kmsg.OffsetForLeaderEpochRequestTopicPartition{p}
				fr.Topics = append(fr.Topics, ft)
				forwardOne(ctx, s, &wg, owner, fr, &rp.ErrorCode, func(fresp *kmsg.OffsetForLeaderEpochResponse) {
					if len(fresp.Topics) == 1 && len(fresp.Topics[0].Partitions) == 1 {
						*rp = fresp.Topics[0].Partitions[0]
					}
				})
			default:
				current := int32(-1)
				if req.Version >= 2 {
					current = p.CurrentLeaderEpoch
				}
				epochEnd(part.log, part.leaderEpoch(), current, p.LeaderEpoch, rp)
			}
		}
	}
	wg.Wait()
	return resp, nil
}

// epochEnd answers one partition whose log is l and whose leader epoch is
// ours; rp starts as -1/-1.
func epochEnd(l *storage.Log, ours, current, requested int32, rp *kmsg.OffsetForLeaderEpochResponseTopicPartition) {
	switch {
	case current >= 0 && current > ours:
		rp.ErrorCode = kerr.UnknownLeaderEpoch.Code
	case current >= 0 && current < ours:
		rp.ErrorCode = kerr.FencedLeaderEpoch.Code
	case requested < 0 || requested > ours:
		// unknown epoch: -1/-1
	case requested == ours:
		rp.LeaderEpoch, rp.EndOffset = ours, l.EndOffset()
	default:
		floor, end := requested, int64(-1)
		seenFloor := false
		for _, sg := range l.Segments() {
			if sg.Batches == 0 {
				continue // no records: neither ends nor holds an epoch
			}
			if sg.Term > int64(requested) {
				end = sg.BaseOffset
				break
			}
			floor, seenFloor = int32(sg.Term), true
		}
		if end < 0 {
			end = l.EndOffset() // later epochs wrote nothing yet
		}
		if !seenFloor {
			floor = requested // older than everything the log still holds
		}
		rp.LeaderEpoch, rp.EndOffset = floor, end
	}
}
