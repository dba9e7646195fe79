package tests

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/testkit"
)

// TestE2EGroupCommitsSurviveRestart: 10,000 offset commits (kadm, in
// batches) over ten groups, spread over the shards' __consumer_offsets
// partitions, then a node restart: every committed offset is intact.
func TestE2EGroupCommitsSurviveRestart(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	const topic, groups, parts, rounds = "grp-commits", 10, 20, 50
	createTopic(t, n, topic, parts, nil)
	adm := n.Admin()
	want := func(g, round int, p int32) int64 { return int64(round*1000 + g*parts + int(p)) }
	var wg sync.WaitGroup
	for g := 0; g < groups; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				os := kadm.Offsets{}
				for p := int32(0); p < parts; p++ {
					os.Add(kadm.Offset{Topic: topic, Partition: p, At: want(g, r, p), LeaderEpoch: -1, Metadata: fmt.Sprintf("r%d", r)})
				}
				resp, err := adm.CommitOffsets(ctxT(t, time.Minute), fmt.Sprintf("commit-%d", g), os)
				if err == nil {
					err = resp.Error()
				}
				if err != nil {
					t.Errorf("group %d round %d: %v", g, r, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	check := func(adm *kadm.Client) {
		t.Helper()
		names := make([]string, groups)
		for g := range names {
			names[g] = fmt.Sprintf("commit-%d", g)
		}
		all := adm.FetchManyOffsets(ctxT(t, time.Minute), names...) // OffsetFetch v8: many groups at once
		for g, name := range names {
			r := all[name]
			if r.Err != nil {
				t.Fatalf("fetch %s: %v", name, r.Err)
			}
			for p := int32(0); p < parts; p++ {
				o, ok := r.Fetched.Lookup(topic, p)
				if !ok || o.Err != nil || o.At != want(g, rounds-1, p) || o.Metadata != fmt.Sprintf("r%d", rounds-1) {
					t.Errorf("%s %d: %+v, want %d", name, p, o, want(g, rounds-1, p))
				}
			}
		}
	}
	check(adm)
	n = n.Restart()
	check(n.Admin())
}

// TestE2EGroupAdminAndErrors drives a group by hand with raw requests and
// checks Kafka's error codes, then lists, describes and deletes it.
func TestE2EGroupAdminAndErrors(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	const topic, group = "grp-admin", "admin-group"
	createTopic(t, n, topic, 2, nil)
	cl := n.Client()
	adm := kadm.NewClient(cl)
	ctx := ctxT(t, 2*time.Minute)
	errOf := func(code int16) error { return kerr.ErrorForCode(code) }

	// FindCoordinator v4, batched.
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.CoordinatorKeys = []string{group, "another"}
	fr, err := fc.RequestWith(ctx, cl)
	if err != nil || len(fr.Coordinators) != 2 || fr.Coordinators[0].ErrorCode != 0 || fr.Coordinators[1].NodeID != nodeID(t, n) {
		t.Fatalf("batched FindCoordinator: %+v %v", fr, err)
	}

	join := kmsg.NewPtrJoinGroupRequest()
	join.Group, join.ProtocolType = group, "consumer"
	join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = 30000, 30000
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Topics = []string{topic}
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: meta.AppendTo(nil)}}
	jr, err := join.RequestWith(ctx, cl)
	if err != nil || !errors.Is(errOf(jr.ErrorCode), kerr.MemberIDRequired) || jr.MemberID == "" {
		t.Fatalf("first JoinGroup: %+v %v, want MEMBER_ID_REQUIRED (KIP-394)", jr, err)
	}
	join.MemberID = jr.MemberID
	if jr, err = join.RequestWith(ctx, cl); err != nil || jr.ErrorCode != 0 || jr.LeaderID != join.MemberID {
		t.Fatalf("JoinGroup: %+v %v", jr, err)
	}
	me, gen := jr.MemberID, jr.Generation

	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group, sync.MemberID, sync.Generation = group, "stranger", gen
	if sr, err := sync.RequestWith(ctx, cl); err != nil || !errors.Is(errOf(sr.ErrorCode), kerr.UnknownMemberID) {
		t.Fatalf("SyncGroup from an unknown member: %+v %v, want UNKNOWN_MEMBER_ID", sr, err)
	}
	sync.MemberID, sync.Generation = me, gen+5
	if sr, err := sync.RequestWith(ctx, cl); err != nil || !errors.Is(errOf(sr.ErrorCode), kerr.IllegalGeneration) {
		t.Fatalf("SyncGroup with a wrong generation: %+v %v, want ILLEGAL_GENERATION", sr, err)
	}
	sync.Generation = gen
	sync.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: me, MemberAssignment: []byte{0, 1}}}
	if sr, err := sync.RequestWith(ctx, cl); err != nil || sr.ErrorCode != 0 || string(sr.MemberAssignment) != "\x00\x01" {
		t.Fatalf("leader SyncGroup: %+v %v", sr, err)
	}

	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation = group, "stranger", gen
	if r, err := hb.RequestWith(ctx, cl); err != nil || !errors.Is(errOf(r.ErrorCode), kerr.UnknownMemberID) {
		t.Fatalf("Heartbeat from an unknown member: %+v %v, want UNKNOWN_MEMBER_ID", r, err)
	}
	hb.MemberID, hb.Generation = me, gen-1
	if r, err := hb.RequestWith(ctx, cl); err != nil || !errors.Is(errOf(r.ErrorCode), kerr.IllegalGeneration) {
		t.Fatalf("Heartbeat with an old generation: %+v %v, want ILLEGAL_GENERATION", r, err)
	}
	hb.Generation = gen
	if r, err := hb.RequestWith(ctx, cl); err != nil || r.ErrorCode != 0 {
		t.Fatalf("Heartbeat: %+v %v", r, err)
	}

	oc := kmsg.NewPtrOffsetCommitRequest()
	oc.Group, oc.MemberID, oc.Generation = group, me, gen+1
	oc.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: topic, Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 7, LeaderEpoch: -1}}}}
	if r, err := oc.RequestWith(ctx, cl); err != nil || !errors.Is(errOf(r.Topics[0].Partitions[0].ErrorCode), kerr.IllegalGeneration) {
		t.Fatalf("OffsetCommit with a wrong generation: %+v %v, want ILLEGAL_GENERATION", r, err)
	}
	oc.Generation = gen
	if r, err := oc.RequestWith(ctx, cl); err != nil || r.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("OffsetCommit: %+v %v", r, err)
	}

	// List (with a state filter), describe, and a refused delete.
	lg, err := adm.ListGroups(ctx, "Stable")
	if err != nil || len(lg) != 1 || lg[group].State != "Stable" {
		t.Fatalf("ListGroups(Stable): %+v %v", lg, err)
	}
	if lg, err = adm.ListGroups(ctx, "Empty"); err != nil || len(lg) != 0 {
		t.Fatalf("ListGroups(Empty): %+v %v", lg, err)
	}
	dg, err := adm.DescribeGroups(ctx, group, "no-such-group")
	if err != nil {
		t.Fatal(err)
	}
	if d := dg[group]; d.Err != nil || d.State != "Stable" || len(d.Members) != 1 || d.Members[0].MemberID != me || d.Protocol != "range" {
		t.Fatalf("DescribeGroups: %+v", d)
	}
	if d := dg["no-such-group"]; !errors.Is(d.Err, kerr.GroupIDNotFound) {
		t.Fatalf("DescribeGroups of an unknown group: %+v, want GROUP_ID_NOT_FOUND", d)
	}
	del, err := adm.DeleteGroups(ctx, group, "no-such-group")
	if err != nil || !errors.Is(del[group].Err, kerr.NonEmptyGroup) || !errors.Is(del["no-such-group"].Err, kerr.GroupIDNotFound) {
		t.Fatalf("DeleteGroups: %+v %v, want NON_EMPTY_GROUP and GROUP_ID_NOT_FOUND", del, err)
	}
	od, err := adm.DeleteOffsets(ctx, group, kadm.TopicsSet{topic: {0: {}}})
	if e, _ := od.Lookup(topic, 0); err != nil || !errors.Is(e, kerr.GroupSubscribedToTopic) {
		t.Fatalf("OffsetDelete on a subscribed topic: %+v %v, want GROUP_SUBSCRIBED_TO_TOPIC", od, err)
	}

	// Leave: an unknown member is refused, the member leaves, the group is empty.
	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.Group = group
	leave.Members = []kmsg.LeaveGroupRequestMember{{MemberID: "stranger"}, {MemberID: me}}
	lr, err := leave.RequestWith(ctx, cl)
	if err != nil || len(lr.Members) != 2 || !errors.Is(errOf(lr.Members[0].ErrorCode), kerr.UnknownMemberID) || lr.Members[1].ErrorCode != 0 {
		t.Fatalf("LeaveGroup: %+v %v", lr, err)
	}
	testkit.CheckFor(t, 10*time.Second, func() error {
		dg, err := adm.DescribeGroups(ctx, group)
		if err != nil || dg[group].State != "Empty" {
			return fmt.Errorf("state %q err %v", dg[group].State, err)
		}
		return nil
	})
	od, err = adm.DeleteOffsets(ctx, group, kadm.TopicsSet{topic: {0: {}}})
	if e, ok := od.Lookup(topic, 0); err != nil || !ok || e != nil {
		t.Fatalf("OffsetDelete: %+v %v", od, err)
	}
	if offs, err := adm.FetchOffsets(ctx, group); err != nil || len(offs) != 0 {
		t.Fatalf("offsets after OffsetDelete: %+v %v", offs, err)
	}
	if del, err = adm.DeleteGroups(ctx, group); err != nil || del[group].Err != nil {
		t.Fatalf("DeleteGroups: %+v %v", del, err)
	}
	if dg, err = adm.DescribeGroups(ctx, group); err != nil || !errors.Is(dg[group].Err, kerr.GroupIDNotFound) {
		t.Fatalf("deleted group still described: %+v %v", dg[group], err)
	}
	if lg, err = adm.ListGroups(ctx); err != nil || len(lg) != 0 {
		t.Fatalf("ListGroups after delete: %+v %v", lg, err)
	}
}
