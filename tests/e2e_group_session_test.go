package tests

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/testkit"
)

// joinSync joins group as a static or dynamic member with raw requests and
// syncs as the leader; it returns the member id and generation.
func joinSync(t *testing.T, cl *kgo.Client, group string, instance *string, sessionMs int32) (string, int32) {
	t.Helper()
	ctx := ctxT(t, time.Minute)
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group, join.ProtocolType, join.InstanceID = group, "consumer", instance
	join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = sessionMs, 10000
	meta := kmsg.NewConsumerMemberMetadata()
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: meta.AppendTo(nil)}}
	jr, err := join.RequestWith(ctx, cl)
	if err == nil && errors.Is(kerr.ErrorForCode(jr.ErrorCode), kerr.MemberIDRequired) {
		join.MemberID = jr.MemberID // KIP-394
		jr, err = join.RequestWith(ctx, cl)
	}
	if err != nil || jr.ErrorCode != 0 {
		t.Fatalf("JoinGroup: %+v %v", jr, err)
	}
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group, sync.MemberID, sync.Generation, sync.InstanceID = group, jr.MemberID, jr.Generation, instance
	if jr.LeaderID == jr.MemberID {
		for _, m := range jr.Members {
			sync.GroupAssignment = append(sync.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: m.MemberID})
		}
	}
	if sr, err := sync.RequestWith(ctx, cl); err != nil || sr.ErrorCode != 0 {
		t.Fatalf("SyncGroup: %+v %v", sr, err)
	}
	return jr.MemberID, jr.Generation
}

// TestE2EGroupSessionAndStatic: a member that stops heartbeating is
// expired after its session timeout; a static member (KIP-345) restarting
// under the same group.instance.id fences its old incarnation.
func TestE2EGroupSessionAndStatic(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	cl := n.Client()
	adm := n.Admin()

	joinSync(t, cl, "silent-group", nil, 6000) // the smallest session allowed by default
	start := time.Now()
	testkit.CheckFor(t, 30*time.Second, func() error {
		dg, err := adm.DescribeGroups(ctxT(t, time.Minute), "silent-group")
		if err != nil || dg["silent-group"].State != "Empty" {
			return fmt.Errorf("state %q err %v", dg["silent-group"].State, err)
		}
		return nil
	})
	if el := time.Since(start); el < 5*time.Second {
		t.Fatalf("member expired after %v, before its 6s session", el)
	}

	inst := "static-1"
	old, _ := joinSync(t, cl, "static-group", &inst, 30000)
	cur, gen := joinSync(t, cl, "static-group", &inst, 30000) // restarted: empty member id, same instance
	if cur == old {
		t.Fatal("a restarted static member kept its old member id")
	}
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation, hb.InstanceID = "static-group", old, gen, &inst
	if r, err := hb.RequestWith(ctxT(t, time.Minute), cl); err != nil || !errors.Is(kerr.ErrorForCode(r.ErrorCode), kerr.FencedInstanceID) {
		t.Fatalf("old incarnation's heartbeat: %+v %v, want FENCED_INSTANCE_ID", r, err)
	}
	hb.MemberID = cur
	if r, err := hb.RequestWith(ctxT(t, time.Minute), cl); err != nil || r.ErrorCode != 0 {
		t.Fatalf("current incarnation's heartbeat: %+v %v", r, err)
	}
	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.Group = "static-group"
	leave.Members = []kmsg.LeaveGroupRequestMember{{InstanceID: &inst}}
	if r, err := leave.RequestWith(ctxT(t, time.Minute), cl); err != nil || len(r.Members) != 1 || r.Members[0].ErrorCode != 0 {
		t.Fatalf("LeaveGroup by instance id: %+v %v", r, err)
	}
	dg, err := adm.DescribeGroups(ctxT(t, time.Minute), "static-group")
	if err != nil || dg["static-group"].State != "Empty" {
		t.Fatalf("static group after leave: %+v %v", dg["static-group"], err)
	}
}
