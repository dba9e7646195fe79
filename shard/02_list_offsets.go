package shard

// ListOffsets v1-v8: earliest (-2) is the log start offset, latest (-1) the
// high watermark (read_uncommitted) or last stable offset (read_committed),
// max timestamp (-3, KIP-734) the batch holding the newest timestamp, and a
// timestamp the first batch whose max timestamp is at or after it (the
// offset is that batch's base offset; -1 if none). Other shards' partitions
// are forwarded.

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.ListOffsets, 1, 8, handleListOffsets) }

func handleListOffsets(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	var wg sync.WaitGroup
	for ti, t := range req.Topics {
		rt := kmsg.NewListOffsetsResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = make([]kmsg.ListOffsetsResponseTopicPartition, len(t.Partitions))
		resp.Topics = append(resp.Topics, rt)
		for pi, p := range t.Partitions {
			rp := &resp.Topics[ti].Partitions[pi]
			*rp = kmsg.NewListOffsetsResponseTopicPartition()
			rp.Partition, rp.Offset, rp.Timestamp, rp.LeaderEpoch = p.Partition, -1, -1, -1
			part, owner, code := s.resolve(ctx, t.Topic, p.Partition)
			switch {
			case code != 0:
				rp.ErrorCode = code
			case part == nil:
				fr := kmsg.NewPtrListOffsetsRequest()
				fr.SetVersion(req.Version)
				fr.ReplicaID, fr.IsolationLevel = req.ReplicaID, req.IsolationLevel
				ft := kmsg.NewListOffsetsRequestTopic()
				ft.Topic = t.Topic
				ft.Partitions = []kmsg.ListOffsetsRequestTopicPartition{p}
				fr.Topics = append(fr.Topics, ft)
				forwardOne(ctx, s, &wg, owner, fr, &rp.ErrorCode, func(fresp *kmsg.ListOffsetsResponse) {
					if len(fresp.Topics) == 1 && len(fresp.Topics[0].Partitions) == 1 {
						*rp = fresp.Topics[0].Partitions[0]
					}
				})
			default:
				part.listOffset(p.Timestamp, req.IsolationLevel, rp)
			}
		}
	}
	wg.Wait()
	return resp, nil
}

func (p *partition) listOffset(ts int64, isolation int8, rp *kmsg.ListOffsetsResponseTopicPartition) {
	rp.LeaderEpoch = p.leaderEpoch()
	switch ts {
	case -2:
		rp.Offset = p.log.StartOffset()
	case -1:
		rp.Offset = p.hw.Load()
		if isolation == 1 {
			rp.Offset = p.log.LastStable()
		}
	default:
		var pos struct {
			off, ts int64
			ok      bool
		}
		if ts == -3 {
			bp, ok, err := p.log.FindMaxTimestamp()
			if err != nil {
				rp.ErrorCode = storageErrCode(err)
				return
			}
			pos.off, pos.ts, pos.ok = bp.BaseOffset, bp.MaxTimestamp, ok
		} else {
			bp, ok, err := p.log.FindTime(ts)
			if err != nil {
				rp.ErrorCode = storageErrCode(err)
				return
			}
			pos.off, pos.ts, pos.ok = bp.BaseOffset, bp.MaxTimestamp, ok
		}
		if pos.ok && pos.off < p.hw.Load() {
			rp.Offset, rp.Timestamp = pos.off, pos.ts
		}
	}
}
