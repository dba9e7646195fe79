package tests

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestE2EOffsetForLeaderEpoch asks for the end offset of the current leader
// epoch on partitions of both shards (the log end), of a newer epoch
// (unknown, -1), of an unknown partition, and with a current leader epoch
// that is newer or older than the partition's (the fencing errors).
func TestE2EOffsetForLeaderEpoch(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	adm := n.Admin()
	createTopic(t, n, "epochs", 4, nil)
	topicShards(t, n, "epochs")
	cl := manualClient(n)
	for p := int32(0); p < 4; p++ {
		produceTo(t, cl, "epochs", p, int(p)+1, 10)
	}
	// The current epoch, as ListOffsets reports it.
	ends, err := adm.ListEndOffsets(ctxT(t, time.Minute), "epochs")
	if err != nil {
		t.Fatal(err)
	}
	var req kadm.OffsetForLeaderEpochRequest
	epochs := map[int32]int32{}
	for p := int32(0); p < 4; p++ {
		o, _ := ends.Lookup("epochs", p)
		epochs[p] = o.LeaderEpoch
		req.Add("epochs", p, o.LeaderEpoch)
	}
	t.Logf("leader epochs %v", epochs)
	rs, err := adm.OffsetForLeaderEpoch(ctxT(t, time.Minute), req)
	if err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 4; p++ {
		r := rs["epochs"][p]
		if r.Err != nil || r.EndOffset != int64(p)+1 || r.LeaderEpoch != epochs[p] {
			t.Errorf("partition %d: end %d epoch %d err %v, want %d %d", p, r.EndOffset, r.LeaderEpoch, r.Err, p+1, epochs[p])
		}
	}

	req = nil
	req.Add("epochs", 1, epochs[1]+10)
	rs, err = adm.OffsetForLeaderEpoch(ctxT(t, time.Minute), req)
	if err != nil {
		t.Fatal(err)
	}
	if r := rs["epochs"][1]; r.Err != nil || r.EndOffset != -1 || r.LeaderEpoch != -1 {
		t.Errorf("newer epoch: end %d epoch %d err %v, want -1 -1", r.EndOffset, r.LeaderEpoch, r.Err)
	}

	// Sent to the broker directly, so that routing does not answer first:
	// an unknown partition, and the current leader epoch checks (KIP-320).
	id := nodeID(t, n)
	ask := func(partition, current, epoch int32) kmsg.OffsetForLeaderEpochResponseTopicPartition {
		t.Helper()
		r := kmsg.NewPtrOffsetForLeaderEpochRequest()
		rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
		rt.Topic = "epochs"
		rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = partition, current, epoch
		rt.Partitions = append(rt.Partitions, rp)
		r.Topics = append(r.Topics, rt)
		kr, err := n.Client().Broker(int(id)).Request(ctxT(t, time.Minute), r)
		if err != nil {
			t.Fatal(err)
		}
		resp := kr.(*kmsg.OffsetForLeaderEpochResponse)
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			t.Fatalf("answer %+v", resp.Topics)
		}
		return resp.Topics[0].Partitions[0]
	}
	for p := int32(0); p < 4; p++ {
		e := epochs[p]
		if r := ask(p, e, e); r.ErrorCode != 0 || r.EndOffset != int64(p)+1 {
			t.Errorf("partition %d, matching current epoch: %+v", p, r)
		}
		if r := ask(p, e+1, e); !errors.Is(kerr.ErrorForCode(r.ErrorCode), kerr.UnknownLeaderEpoch) {
			t.Errorf("partition %d, newer current epoch: %v", p, kerr.ErrorForCode(r.ErrorCode))
		}
		if e > 0 {
			if r := ask(p, e-1, e-1); !errors.Is(kerr.ErrorForCode(r.ErrorCode), kerr.FencedLeaderEpoch) {
				t.Errorf("partition %d, older current epoch: %v", p, kerr.ErrorForCode(r.ErrorCode))
			}
			// An epoch before every record: it ends where the data starts.
			if r := ask(p, -1, e-1); r.ErrorCode != 0 || r.EndOffset != 0 || r.LeaderEpoch != e-1 {
				t.Errorf("partition %d, epoch %d before the data: %+v", p, e-1, r)
			}
		}
	}
	if r := ask(99, -1, 0); r.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("unknown partition: %v", kerr.ErrorForCode(r.ErrorCode))
	}
}
