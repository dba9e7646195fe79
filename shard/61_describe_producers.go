package shard

// DescribeProducers v0 (KIP-664): the producers a partition tracks for
// idempotence and transactions: epoch, last sequence, last timestamp and
// the first offset of the open transaction, if any. Other shards'
// partitions are forwarded.

import (
	"context"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.DescribeProducers, 0, 0, handleDescribeProducers) }

func handleDescribeProducers(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DescribeProducersRequest)
	resp := req.ResponseKind().(*kmsg.DescribeProducersResponse)
	var wg sync.WaitGroup
	for ti, t := range req.Topics {
		rt := kmsg.NewDescribeProducersResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = make([]kmsg.DescribeProducersResponseTopicPartition, len(t.Partitions))
		resp.Topics = append(resp.Topics, rt)
		for pi, pn := range t.Partitions {
			rp := &resp.Topics[ti].Partitions[pi]
			*rp = kmsg.NewDescribeProducersResponseTopicPartition()
			rp.Partition = pn
			part, owner, code := s.resolve(ctx, t.Topic, pn)
			switch {
			case code != 0:
				rp.ErrorCode = code
			case part == nil:
				fr := kmsg.NewPtrDescribeProducersRequest()
				fr.SetVersion(req.Version)
				ft := kmsg.NewDescribeProducersRequestTopic()
				ft.Topic, ft.Partitions = t.Topic, []int32{pn}
				fr.Topics = append(fr.Topics, ft)
				forwardOne(ctx, s, &wg, owner, fr, &rp.ErrorCode, func(fresp *kmsg.DescribeProducersResponse) {
					if len(fresp.Topics) == 1 && len(fresp.Topics[0].Partitions) == 1 {
						*rp = fresp.Topics[0].Partitions[0]
					}
				})
			default:
				rp.ActiveProducers = part.activeProducers()
			}
		}
	}
	wg.Wait()
	return resp, nil
}

// activeProducers lists the partition's producers by id.
func (p *partition) activeProducers() []kmsg.DescribeProducersResponseTopicPartitionActiveProducer {
	p.mu.Lock()
	out := make([]kmsg.DescribeProducersResponseTopicPartitionActiveProducer, 0, len(p.producers))
	for pid, st := range p.producers {
		ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
		ap.ProducerID, ap.ProducerEpoch, ap.LastTimestamp = pid, int32(st.epoch), st.lastTimestamp
		ap.LastSequence = -1
		if st.n > 0 {
			ap.LastSequence = st.lastSeq()
		}
		ap.CoordinatorEpoch, ap.CurrentTxnStartOffset = -1, -1
		out = append(out, ap)
	}
	p.mu.Unlock()
	p.txnMu.Lock()
	for i := range out {
		if first, ok := p.txn.open[out[i].ProducerID]; ok {
			out[i].CurrentTxnStartOffset = first
		}
	}
	p.txnMu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ProducerID < out[j].ProducerID })
	return out
}
