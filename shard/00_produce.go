package shard

// Produce v3-v10 (v3 is the first with record batches v2, which is all we
// store). acks=0: appended, no response. acks=1 and acks=-1: answered once
// the batches are on disk (a single replica: local durability is the
// majority). Every codec is stored verbatim. Partitions owned by other shards
// of this node are forwarded to them and the answers merged; unknown ones get
// UNKNOWN_TOPIC_OR_PARTITION. Transactional batches are checked as idempotent
// ones (epoch, sequence) and open a transaction on the partition until the
// coordinator's marker ends it (txnpart.go).

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.Produce, 3, 10, handleProduce) }

func handleProduce(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	type slot struct{ t, p int }
	type local struct {
		part *partition
		w    pendingWrite
		rp   *kmsg.ProduceResponseTopicPartition
	}
	remote := map[int]*kmsg.ProduceRequest{}
	remoteSlots := map[int][]slot{}
	var locals []local

	// Writes happen in the connection's request order (writeTurn); the
	// waits for durability overlap with the next requests' writes.
	turn := turnOf(ctx)
	if err := turn.wait(ctx); err != nil {
		return nil, err
	}
	for ti, t := range req.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = t.Topic
		rt.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(t.Partitions))
		resp.Topics = append(resp.Topics, rt)
		// Kafka: "Cannot append to internal topic"; only the coordinators
		// write there.
		refused := !isInternal(ctx) && s.internalTopic(t.Topic)
		for pi, p := range t.Partitions {
			rp := &resp.Topics[ti].Partitions[pi]
			*rp = kmsg.NewProduceResponseTopicPartition()
			rp.Partition = p.Partition
			rp.BaseOffset = -1
			rp.LogAppendTime = -1
			if refused {
				rp.ErrorCode = kerr.InvalidTopicException.Code
				continue
			}
			part, owner, code := s.resolve(ctx, t.Topic, p.Partition)
			switch {
			case code != 0:
				rp.ErrorCode = code
			case part == nil:
				fr := remote[owner]
				if fr == nil {
					fr = kmsg.NewPtrProduceRequest()
					fr.SetVersion(req.Version)
					// acks=0 still needs the owner's answer to know it took the data.
					fr.Acks, fr.TimeoutMillis, fr.TransactionID = req.Acks, req.TimeoutMillis, req.TransactionID
					if fr.Acks == 0 {
						fr.Acks = 1
					}
					remote[owner] = fr
				}
				ft := kmsg.NewProduceRequestTopic()
				ft.Topic = t.Topic
				ft.Partitions = []kmsg.ProduceRequestTopicPartition{p}
				fr.Topics = append(fr.Topics, ft)
				remoteSlots[owner] = append(remoteSlots[owner], slot{ti, pi})
			default:
				locals = append(locals, local{part, part.write(p.Records), rp})
			}
		}
	}
	var wg sync.WaitGroup
	for _, l := range locals {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := l.part.commit(l.w)
			l.rp.BaseOffset, l.rp.ErrorCode = r.base, r.errCode
			if r.msg != "" {
				m := r.msg
				l.rp.ErrorMessage = &m
			}
			l.rp.LogStartOffset = l.part.log.StartOffset()
		}()
	}
	// Forwarded parts go out on each owner's produce pipe in turn order;
	// the owner writes them in that order, so the turn passes on once they
	// are sent, and their durability is awaited with the local parts'.
	var rwg sync.WaitGroup
	for owner, fr := range remote {
		wait, err := s.fwd.pipe(owner).send(ctx, fr)
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			var kr kmsg.Response
			if err == nil {
				kr, err = wait()
			}
			for i, sl := range remoteSlots[owner] {
				rp := &resp.Topics[sl.t].Partitions[sl.p]
				if err != nil {
					rp.ErrorCode = kerr.NotLeaderForPartition.Code
					continue
				}
				fresp := kr.(*kmsg.ProduceResponse)
				if i < len(fresp.Topics) && len(fresp.Topics[i].Partitions) == 1 {
					*rp = fresp.Topics[i].Partitions[0]
				}
			}
		}()
	}
	turn.done()
	rwg.Wait()
	wg.Wait()
	if req.Acks == 0 {
		return nil, nil
	}
	return resp, nil
}
