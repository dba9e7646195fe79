package shard

// Fetch v4-v13. Whole batches from the partition log up to the high
// watermark (read_uncommitted) or last stable offset (read_committed),
// honouring MaxBytes, partition max bytes (the first batch is always whole,
// KIP-74), MinBytes and MaxWaitMs. The long poll spans shards: every round
// polls all partitions (local ones directly, other shards' over the forward
// socket with no wait); if MinBytes is not reached it waits for new local
// data, or for a long-poll sent to the other shards to return, or for the
// deadline, and polls again. Fetch sessions (KIP-227) are declined cleanly:
// session id 0 tells the client to keep sending full fetches. v13 names
// topics by ID.

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/internal/metadata"
	"github.com/ailurus/ailurus/internal/storage"
)

func init() { regKey(kmsg.Fetch, 4, 13, handleFetch) }

func handleFetch(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.FetchRequest)
	if req.SessionID != 0 {
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
		return resp, nil
	}
	deadline := time.Now().Add(time.Duration(req.MaxWaitMillis) * time.Millisecond)
	for {
		wake := s.parts.dataArrived()
		z, total, remote := s.fetchOnce(ctx, req, deadline)
		if total >= int64(req.MinBytes) || req.MaxWaitMillis <= 0 || !time.Now().Before(deadline) || isInternal(ctx) && req.MaxWaitMillis == 0 {
			if z.slices == nil {
				return z.FetchResponse, nil
			}
			return z, nil // records still in the log: sent with sendfile (fetch_encode.go)
		}
		z.release()
		// Wait for something to change, then poll again.
		wctx, cancel := context.WithDeadline(ctx, deadline)
		remoteDone := make(chan struct{})
		if len(remote) > 0 {
			go func() {
				// Wake the poll only when an owner answered: a shard that is
				// down answers at once with an error, and waking on that would
				// spin, redialling it until the deadline.
				var wg sync.WaitGroup
				var once sync.Once
				for owner, fr := range remote {
					fr.MaxWaitMillis = int32(time.Until(deadline) / time.Millisecond)
					fr.MinBytes = 1
					wg.Add(1)
					go func() {
						defer wg.Done()
						// The owner answers by the deadline; the socket gets slack
						// so the caller does not hang up on an answer in flight.
						cctx, cancel := context.WithDeadline(ctx, deadline.Add(5*time.Second))
						defer cancel()
						if _, err := s.fwd.call(cctx, owner, fr); err == nil {
							once.Do(func() { close(remoteDone) })
						}
					}()
				}
				wg.Wait()
			}()
		}
		select {
		case <-wake:
		case <-remoteDone:
		case <-wctx.Done():
		}
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

// fetchOnce reads every requested partition and returns the response, its record bytes, and the per-shard requests used for other
// shards' partitions (for a long poll). For a client (not a forwarded
// fetch) local partitions' records stay in the log, in the returned slices,
// which the caller must release; otherwise they are copied into the
// response and slices is nil. A local partition still opening or electing
// is waited for only until the fetch's deadline: one that is stuck must not
// hold back the others, and its client gets NOT_LEADER_OR_FOLLOWER.
func (s *Shard) fetchOnce(ctx context.Context, req *kmsg.FetchRequest, deadline time.Time) (*zcFetch, int64, map[int]*kmsg.FetchRequest) {
	actx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	z := &zcFetch{FetchResponse: resp}
	zeroCopy := !isInternal(ctx)
	refs := !zeroCopy && wantsRefs(req) // another shard will send our records from the files
	st := s.cfg.Catalog.State()
	budget := int64(req.MaxBytes)
	if budget <= 0 {
		budget = 1 << 30
	}
	var total int64
	type slot struct{ t, p int }
	remote := map[int]*kmsg.FetchRequest{}
	remoteSlots := map[int][]slot{}
	var slice storage.Slice
	defer slice.Release()
	for ti, t := range req.Topics {
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic, rt.TopicID = t.Topic, t.TopicID
		name := t.Topic
		if req.Version >= 13 {
			if tt, ok := st.TopicByID(metadata.UUID(t.TopicID)); ok {
				name = tt.Name
			} else {
				name = ""
			}
		}
		rt.Partitions = make([]kmsg.FetchResponseTopicPartition, len(t.Partitions))
		resp.Topics = append(resp.Topics, rt)
		var slices []*storage.Slice
		if zeroCopy {
			slices = make([]*storage.Slice, len(t.Partitions))
			z.slices = append(z.slices, slices)
		}
		for pi, p := range t.Partitions {
			rp := &resp.Topics[ti].Partitions[pi]
			*rp = kmsg.NewFetchResponseTopicPartition()
			rp.Partition = p.Partition
			rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = -1, -1, -1
			rp.RecordBatches = []byte{} // empty, never null: librdkafka refuses a null record set
			if name == "" {
				rp.ErrorCode = kerr.UnknownTopicID.Code
				continue
			}
			part, owner, code := s.resolve(actx, name, p.Partition)
			switch {
			case code != 0:
				rp.ErrorCode = code
			case part == nil:
				fr := remote[owner]
				if fr == nil {
					fr = kmsg.NewPtrFetchRequest()
					fr.SetVersion(req.Version)
					fr.ReplicaID, fr.MaxBytes, fr.IsolationLevel = req.ReplicaID, req.MaxBytes, req.IsolationLevel
					fr.SessionEpoch = -1
					if zeroCopy {
						askRefs(fr)
					}
					remote[owner] = fr
				}
				ft := kmsg.NewFetchRequestTopic()
				ft.Topic, ft.TopicID = t.Topic, t.TopicID
				ft.Partitions = []kmsg.FetchRequestTopicPartition{p}
				fr.Topics = append(fr.Topics, ft)
				remoteSlots[owner] = append(remoteSlots[owner], slot{ti, pi})
			default:
				if !zeroCopy {
					n := part.fetch(p, req.IsolationLevel, budget-total, total == 0, rp, &slice, refs)
					if refs && n > 0 {
						if err := answerRefs(rp, &slice); err != nil {
							rp.ErrorCode, n = kerr.KafkaStorageError.Code, 0
						}
					}
					total += n
					break
				}
				sl := new(storage.Slice)
				total += part.fetch(p, req.IsolationLevel, budget-total, total == 0, rp, sl, true)
				if sl.Size > 0 {
					slices[pi] = sl
				} else {
					sl.Release()
				}
			}
		}
	}
	if len(remote) > 0 {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for owner, fr := range remote {
			fr.MaxWaitMillis, fr.MinBytes = 0, 0
			wg.Add(1)
			go func() {
				defer wg.Done()
				kr, err := s.fwd.call(ctx, owner, fr)
				mu.Lock()
				defer mu.Unlock()
				for i, sl := range remoteSlots[owner] {
					rp := &resp.Topics[sl.t].Partitions[sl.p]
					if err != nil {
						rp.ErrorCode = kerr.NotLeaderForPartition.Code
						continue
					}
					fresp := kr.(*kmsg.FetchResponse)
					if i < len(fresp.Topics) && len(fresp.Topics[i].Partitions) == 1 {
						*rp = fresp.Topics[i].Partitions[0]
						copied, inFiles := int64(len(rp.RecordBatches)), s.takeRefs(z, sl.t, sl.p, rp)
						metricCrossShardOut.WithLabelValues("copy").Add(float64(copied))
						metricCrossShardOut.WithLabelValues("file").Add(float64(inFiles))
						total += copied + inFiles
					}
				}
			}()
		}
		wg.Wait()
	}
	return z, total, remote
}

// takeRefs opens the files another shard's answer rp refers to and holds
// them in z, and returns their bytes. A file gone since the owner answered
// leaves the partition without records this time, which the client fetches
// again.
func (s *Shard) takeRefs(z *zcFetch, t, p int, rp *kmsg.FetchResponseTopicPartition) int64 {
	b, ok := tagValue(&rp.UnknownTags, tagFetchRefs)
	if !ok {
		return 0
	}
	rp.UnknownTags = kmsg.Tags{}
	refs, err := parseRefs(b)
	var rr *refRecords
	if err == nil {
		rr, err = openRefs(refs)
	}
	if err != nil {
		if !errors.Is(err, errRefGone) {
			s.log.Warn("cannot open another shard's records; answering without them", "partition", rp.Partition, "err", err)
		}
		return 0
	}
	z.addRefs(t, p, rr)
	return rr.size
}

// fetch reads one partition into rp and returns the bytes it added. first
// says no bytes were gathered yet (so one whole batch may exceed budget).
// keep leaves the records in slice, not copied into rp: the caller sends
// and releases them.
func (p *partition) fetch(fp kmsg.FetchRequestTopicPartition, isolation int8, budget int64, first bool, rp *kmsg.FetchResponseTopicPartition, slice *storage.Slice, keep bool) int64 {
	hw := p.hw.Load()
	upto := hw
	if isolation == 1 {
		upto = p.log.LastStable()
	}
	rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = hw, p.log.LastStable(), p.log.StartOffset()
	max := int64(fp.PartitionMaxBytes)
	if max <= 0 {
		max = 1 << 20
	}
	if !first && budget < max {
		max = budget
	}
	if max <= 0 {
		return 0
	}
	if err := p.log.Read(fp.FetchOffset, upto, max, slice); err != nil {
		rp.ErrorCode = storageErrCode(err)
		return 0
	}
	if slice.Size == 0 {
		return 0
	}
	if isolation == 1 {
		rp.AbortedTransactions = p.abortedIn(fp.FetchOffset, slice.NextOffset)
	}
	if keep {
		metricBytesOut.Add(float64(slice.Size))
		return slice.Size
	}
	b, err := slice.AppendTo(make([]byte, 0, slice.Size))
	slice.Release()
	if err != nil {
		rp.ErrorCode = kerr.KafkaStorageError.Code
		return 0
	}
	rp.RecordBatches = b
	metricBytesOut.Add(float64(len(b)))
	return int64(len(b))
}
