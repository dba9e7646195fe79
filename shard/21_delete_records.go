package shard

// DeleteRecords v0-v2: moves each partition's log start offset forward to
// the requested offset (-1: the high watermark), durably, and removes the
// segments wholly below it; records below can no longer be fetched. An
// offset past the high watermark, or negative other than -1, is
// OFFSET_OUT_OF_RANGE; one below the current start changes nothing. The
// answer's LowWatermark is the log start offset after the call. Other
// shards' partitions are forwarded.

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.DeleteRecords, 0, 2, handleDeleteRecords) }

func handleDeleteRecords(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DeleteRecordsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	var wg sync.WaitGroup
	for ti, t := range req.Topics {
		rt := kmsg.NewDeleteRecordsResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = make([]kmsg.DeleteRecordsResponseTopicPartition, len(t.Partitions))
		resp.Topics = append(resp.Topics, rt)
		for pi, p := range t.Partitions {
			rp := &resp.Topics[ti].Partitions[pi]
			*rp = kmsg.NewDeleteRecordsResponseTopicPartition()
			rp.Partition, rp.LowWatermark = p.Partition, -1
			part, owner, code := s.resolve(ctx, t.Topic, p.Partition)
			switch {
			case code != 0:
				rp.ErrorCode = code
			case part == nil:
				fr := kmsg.NewPtrDeleteRecordsRequest()
				fr.SetVersion(req.Version)
				fr.TimeoutMillis = req.TimeoutMillis
				ft := kmsg.NewDeleteRecordsRequestTopic()
				ft.Topic = t.Topic
				ft.Partitions = []kmsg.DeleteRecordsRequestTopicPartition{p}
				fr.Topics = append(fr.Topics, ft)
				forwardOne(ctx, s, &wg, owner, fr, &rp.ErrorCode, func(fresp *kmsg.DeleteRecordsResponse) {
					if len(fresp.Topics) == 1 && len(fresp.Topics[0].Partitions) == 1 {
						*rp = fresp.Topics[0].Partitions[0]
					}
				})
			default:
				wg.Add(1)
				go func() { // writes a checkpoint and may remove segments: overlap them
					defer wg.Done()
					rp.LowWatermark, rp.ErrorCode = part.deleteRecords(p.Offset)
				}()
			}
		}
	}
	wg.Wait()
	return resp, nil
}

// deleteRecords makes offset (-1: the high watermark) the log start offset
// and returns the start offset after it.
func (p *partition) deleteRecords(offset int64) (int64, int16) {
	hw := p.hw.Load()
	if offset == -1 {
		offset = hw
	}
	if offset < 0 || offset > hw {
		return -1, kerr.OffsetOutOfRange.Code
	}
	if err := p.log.SetStartOffset(offset); err != nil {
		return -1, storageErrCode(err)
	}
	return p.log.StartOffset(), 0
}
