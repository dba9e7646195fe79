package kwire

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestProduceFrameMatchesKmsg checks that ProduceFrame's buffers are,
// joined, byte for byte the frame AppendRequest (kmsg's encoder) gives, for
// every version it takes and requests of every shape: null, empty, small
// and large record sets, transactional or not, many topics and partitions.
// The frame is then decoded back with the owner's parser.
func TestProduceFrameMatchesKmsg(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{-1, 0, 61, inlineRecords, inlineRecords + 1, 100 << 10}
	for v := int16(3); v <= 12; v++ {
		for i := range 40 {
			req := kmsg.NewPtrProduceRequest()
			req.Version = v
			req.Acks = int16(rng.IntN(3) - 1)
			req.TimeoutMillis = rng.Int32()
			if i%3 == 0 {
				id := fmt.Sprintf("txn-%d", i)
				req.TransactionID = &id
			}
			var refs int
			for ti := range 1 + rng.IntN(3) {
				rt := kmsg.NewProduceRequestTopic()
				rt.Topic = fmt.Sprintf("topic-%d-%d", i, ti)
				for pi := range rng.IntN(4) {
					rp := kmsg.NewProduceRequestTopicPartition()
					rp.Partition = int32(pi)
					if n := sizes[rng.IntN(len(sizes))]; n >= 0 {
						rp.Records = make([]byte, n)
						for k := range rp.Records {
							rp.Records[k] = byte(rng.UintN(256))
						}
						if n > inlineRecords {
							refs++
						}
					}
					rt.Partitions = append(rt.Partitions, rp)
				}
				req.Topics = append(req.Topics, rt)
			}
			want := AppendRequest(nil, int32(i), "shard-1", req)
			bufs, ok := ProduceFrame(int32(i), "shard-1", req)
			if !ok {
				t.Fatalf("v%d: ProduceFrame refused a plain request", v)
			}
			if len(bufs) != 2*refs+1 {
				t.Errorf("v%d: %d buffers for %d large record sets, want %d", v, len(bufs), refs, 2*refs+1)
			}
			var got bytes.Buffer
			if _, err := bufs.WriteTo(&got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("v%d request %d: %d bytes differ from kmsg's %d", v, i, got.Len(), len(want))
			}
			h, body, err := ParseHeader(got.Bytes()[4:])
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseRequest(h, body)
			if err != nil {
				t.Fatalf("v%d: the owner cannot parse it: %v", v, err)
			}
			if pr := back.(*kmsg.ProduceRequest); len(pr.Topics) != len(req.Topics) || h.ClientID != "shard-1" {
				t.Fatalf("v%d: parsed back %d topics, client id %q", v, len(pr.Topics), h.ClientID)
			}
		}
	}
}

// TestProduceFrameRefuses checks that what ProduceFrame does not encode is
// left to AppendRequest rather than sent wrong.
func TestProduceFrameRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*kmsg.ProduceRequest)
	}{
		{"version 13 (topic ids)", func(r *kmsg.ProduceRequest) { r.Version = 13 }},
		{"version 2 (message sets)", func(r *kmsg.ProduceRequest) { r.Version = 2 }},
		{"unknown request tag", func(r *kmsg.ProduceRequest) { r.UnknownTags.Set(7, []byte{1}) }},
		{"unknown topic tag", func(r *kmsg.ProduceRequest) { r.Topics[0].UnknownTags.Set(7, []byte{1}) }},
		{"unknown partition tag", func(r *kmsg.ProduceRequest) { r.Topics[0].Partitions[0].UnknownTags.Set(7, []byte{1}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := kmsg.NewPtrProduceRequest()
			req.Version = 9
			rt := kmsg.NewProduceRequestTopic()
			rt.Topic = "t"
			rp := kmsg.NewProduceRequestTopicPartition()
			rp.Records = []byte{1, 2, 3}
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			tc.mod(req)
			if _, ok := ProduceFrame(1, "c", req); ok {
				t.Fatal("ProduceFrame took it")
			}
		})
	}
}
