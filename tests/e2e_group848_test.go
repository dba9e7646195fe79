package tests

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/testkit"
)

// start848Member is startMember with the KIP-848 protocol: the coordinator
// assigns partitions (kgo.ServerSideBalancer).
func start848Member(t *testing.T, n *Node, group, topic string, got *consumedSet) *groupMember {
	return startMember(t, n, group, topic, got, kgo.ServerSideBalancer())
}

// describe848 is ConsumerGroupDescribe of one group.
func describe848(t *testing.T, cl *kgo.Client, group string) kmsg.ConsumerGroupDescribeResponseGroup {
	t.Helper()
	req := kmsg.NewPtrConsumerGroupDescribeRequest()
	req.Groups = []string{group}
	resp, err := req.RequestWith(ctxT(t, time.Minute), cl)
	if err != nil {
		t.Fatalf("ConsumerGroupDescribe: %v", err)
	}
	if len(resp.Groups) != 1 {
		t.Fatalf("ConsumerGroupDescribe: %d groups", len(resp.Groups))
	}
	return resp.Groups[0]
}

// TestE2EGroup848Franz: three franz-go members using the KIP-848 protocol
// in one group over six partitions (on two shards) join and leave while
// records arrive; every record is consumed exactly once, and the committed
// offsets and the group survive a node restart.
func TestE2EGroup848Franz(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	const topic, group = "grp-848", "group-848"
	createTopic(t, n, topic, 6, nil)
	prod := n.Client()
	admin := n.Client()
	want := map[int32][]string{}
	got := newConsumedSet()

	produceKeyed(t, prod, topic, 0, 1000, want)
	a := start848Member(t, n, group, topic, got)
	testkit.CheckFor(t, 60*time.Second, func() error {
		if d := got.distinct(); d < 500 {
			return fmt.Errorf("member a consumed %d", d)
		}
		return nil
	})
	if g := describe848(t, admin, group); g.ErrorCode != 0 || len(g.Members) != 1 || g.Members[0].MemberType != 1 {
		t.Fatalf("after the first member joined: %+v (the client did not use KIP-848?)", g)
	}
	b := start848Member(t, n, group, topic, got)
	c := start848Member(t, n, group, topic, got)
	// The three members share the six partitions, assigned by the coordinator.
	testkit.CheckFor(t, 90*time.Second, func() error {
		g := describe848(t, admin, group)
		if g.ErrorCode != 0 || g.State != "Stable" || len(g.Members) != 3 {
			return fmt.Errorf("group %s (%v) with %d members", g.State, kerr.ErrorForCode(g.ErrorCode), len(g.Members))
		}
		for _, m := range g.Members {
			if len(m.Assignment.TopicPartitions) != 1 || len(m.Assignment.TopicPartitions[0].Partitions) != 2 || m.MemberEpoch != g.AssignmentEpoch {
				return fmt.Errorf("member %s at epoch %d assigned %+v", m.MemberID, m.MemberEpoch, m.Assignment)
			}
		}
		return nil
	})
	lg := kmsg.NewPtrListGroupsRequest()
	lg.TypesFilter = []string{"consumer"}
	if lr, err := lg.RequestWith(ctxT(t, time.Minute), admin); err != nil || len(lr.Groups) != 1 || lr.Groups[0].Group != group || lr.Groups[0].GroupType != "consumer" {
		t.Fatalf("ListGroups of consumer groups: %+v, %v", lr, err)
	}
	produceKeyed(t, prod, topic, 1000, 1000, want)
	testkit.CheckFor(t, 60*time.Second, func() error {
		if d := got.distinct(); d < 2000 {
			return fmt.Errorf("consumed %d of 2000", d)
		}
		return nil
	})
	a.stop()
	produceKeyed(t, prod, topic, 2000, 1000, want)
	testkit.CheckFor(t, 90*time.Second, func() error {
		if d := got.distinct(); d < 3000 {
			return fmt.Errorf("consumed %d of 3000 (group %+v)", d, describe848(t, admin, group))
		}
		return nil
	})
	b.stop()
	c.stop()

	got.checkExactlyOnce(t, want, 3000)

	epoch := describe848(t, admin, group).Epoch
	check := func(n *Node) {
		t.Helper()
		offs, err := n.Admin().FetchOffsets(ctxT(t, time.Minute), group)
		if err != nil {
			t.Fatalf("fetch offsets: %v", err)
		}
		for p, vals := range want {
			o, ok := offs.Lookup(topic, p)
			if !ok || o.Err != nil || o.At != int64(len(vals)) {
				t.Errorf("partition %d: committed %+v (ok %v), want %d", p, o, ok, len(vals))
			}
		}
		g := describe848(t, n.Client(), group)
		if g.ErrorCode != 0 || g.State != "Empty" || len(g.Members) != 0 || g.Epoch != epoch {
			t.Errorf("group after all members left: %+v, want Empty at epoch %d", g, epoch)
		}
	}
	check(n)
	n = n.Restart()
	check(n)

	// A new member after the restart resumes from the committed offsets.
	got2 := newConsumedSet()
	produceKeyed(t, n.Client(), topic, 3000, 60, want)
	d := start848Member(t, n, group, topic, got2)
	defer d.stop()
	testkit.CheckFor(t, 60*time.Second, func() error {
		if n := got2.distinct(); n < 60 {
			return fmt.Errorf("consumed %d of the 60 new records", n)
		}
		return nil
	})
	got2.mu.Lock()
	defer got2.mu.Unlock()
	for p, vals := range got2.vals {
		for o, v := range vals {
			var i int
			if _, err := fmt.Sscanf(v, "v%d", &i); err != nil || i < 3000 {
				t.Errorf("partition %d offset %d (%s) consumed again after the restart", p, o, v)
			}
		}
	}
}

// TestE2EGroup848Errors drives ConsumerGroupHeartbeat by hand: fencing,
// unknown members, stale commits, unsupported assignors, and a consumer
// group refusing classic members.
func TestE2EGroup848Errors(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	const topic, group = "grp-848-raw", "group-848-raw"
	createTopic(t, n, topic, 3, nil)
	cl := n.Client()
	hb := func(member string, epoch int32, mod func(*kmsg.ConsumerGroupHeartbeatRequest)) *kmsg.ConsumerGroupHeartbeatResponse {
		t.Helper()
		req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
		req.Group, req.MemberID, req.MemberEpoch = group, member, epoch
		if epoch == 0 {
			req.RebalanceTimeoutMillis = 30000
			req.SubscribedTopicNames = []string{topic}
			req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
		}
		if mod != nil {
			mod(req)
		}
		resp, err := req.RequestWith(ctxT(t, time.Minute), cl)
		if err != nil {
			t.Fatalf("ConsumerGroupHeartbeat: %v", err)
		}
		return resp
	}
	expect := func(what string, got int16, want *kerr.Error) {
		t.Helper()
		if want == nil && got != 0 || want != nil && got != want.Code {
			t.Fatalf("%s: got %v, want %v", what, kerr.ErrorForCode(got), want)
		}
	}

	r := hb("m1", 0, nil)
	expect("join", r.ErrorCode, nil)
	if r.MemberEpoch < 1 || r.Assignment == nil || len(r.Assignment.Topics) != 1 || len(r.Assignment.Topics[0].Partitions) != 3 || r.HeartbeatIntervalMillis != 5000 {
		t.Fatalf("join answer: %+v", r)
	}
	epoch := r.MemberEpoch
	expect("heartbeat", hb("m1", epoch, nil).ErrorCode, nil)
	expect("heartbeat from the future", hb("m1", epoch+5, nil).ErrorCode, kerr.FencedMemberEpoch)
	expect("heartbeat of an unknown member", hb("nobody", 1, nil).ErrorCode, kerr.UnknownMemberID)
	expect("unknown assignor", hb("m2", 0, func(r *kmsg.ConsumerGroupHeartbeatRequest) { s := "nope"; r.ServerAssignor = &s }).ErrorCode, kerr.UnsupportedAssignor)
	expect("join without a rebalance timeout", hb("m2", 0, func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.RebalanceTimeoutMillis = -1 }).ErrorCode, kerr.InvalidRequest)

	commit := func(member string, epoch int32) int16 {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Group, req.MemberID, req.Generation = group, member, epoch
		req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: topic, Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 1, LeaderEpoch: -1}}}}
		resp, err := req.RequestWith(ctxT(t, time.Minute), cl)
		if err != nil {
			t.Fatalf("OffsetCommit: %v", err)
		}
		return resp.Topics[0].Partitions[0].ErrorCode
	}
	expect("commit at the member epoch", commit("m1", epoch), nil)
	expect("commit at a stale epoch", commit("m1", epoch-1), kerr.StaleMemberEpoch)
	expect("commit by an unknown member", commit("nobody", epoch), kerr.UnknownMemberID)

	jr := kmsg.NewPtrJoinGroupRequest()
	jr.Group, jr.ProtocolType, jr.SessionTimeoutMillis, jr.RebalanceTimeoutMillis = group, "consumer", 10000, 10000
	jr.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{}}}
	jresp, err := jr.RequestWith(ctxT(t, time.Minute), cl)
	if err != nil {
		t.Fatal(err)
	}
	expect("classic JoinGroup to a consumer group", jresp.ErrorCode, kerr.InconsistentGroupProtocol)
	dg := kmsg.NewPtrDescribeGroupsRequest()
	dg.Groups = []string{group}
	dresp, err := dg.RequestWith(ctxT(t, time.Minute), cl)
	if err != nil {
		t.Fatal(err)
	}
	expect("DescribeGroups of a consumer group", dresp.Groups[0].ErrorCode, kerr.GroupIDNotFound)

	// A second member: the group moves on, m1 must give partitions up
	// before m2 gets any.
	r2 := hb("m2", 0, nil)
	expect("second join", r2.ErrorCode, nil)
	if r2.Assignment == nil || len(r2.Assignment.Topics) != 0 {
		t.Fatalf("m2 got partitions m1 still holds: %+v", r2.Assignment)
	}
	r = hb("m1", epoch, func(r *kmsg.ConsumerGroupHeartbeatRequest) {
		r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{{TopicID: jrTopicID(t, cl, topic), Partitions: []int32{0, 1, 2}}}
	})
	expect("m1 heartbeat", r.ErrorCode, nil)
	if r.MemberEpoch != epoch || r.Assignment == nil || len(r.Assignment.Topics) != 1 || len(r.Assignment.Topics[0].Partitions) != 2 {
		t.Fatalf("m1 should keep two partitions and revoke one at its epoch %d: %+v", epoch, r)
	}
	expect("commit while revoking", commit("m1", epoch), nil)
	g := describe848(t, cl, group)
	if g.State != "Reconciling" || g.Epoch != r2.MemberEpoch {
		t.Fatalf("described: %+v", g)
	}

	r = hb("m2", -1, nil)
	expect("leave", r.ErrorCode, nil)
	if r.MemberEpoch != -1 {
		t.Fatalf("leave answered epoch %d", r.MemberEpoch)
	}
	expect("heartbeat after leaving", hb("m2", r2.MemberEpoch, nil).ErrorCode, kerr.UnknownMemberID)
}

// jrTopicID is the topic id Metadata reports.
func jrTopicID(t *testing.T, cl *kgo.Client, topic string) [16]byte {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, mt)
	resp, err := req.RequestWith(ctxT(t, time.Minute), cl)
	if err != nil || len(resp.Topics) != 1 {
		t.Fatalf("metadata: %v", err)
	}
	return resp.Topics[0].TopicID
}
