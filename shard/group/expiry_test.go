package group

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/testkit"
)

// loadGroup replays a stable generation 1 of group with one member, as
// the partition's log would hold it.
func loadGroup(p *Partition, group, member string) {
	v := kmsg.NewGroupMetadataValue()
	v.Version = 3
	v.ProtocolType, v.Generation = "consumer", 1
	proto, leader := "range", member
	v.Protocol, v.Leader = &proto, &leader
	m := kmsg.NewGroupMetadataValueMember()
	m.MemberID, m.SessionTimeoutMillis, m.RebalanceTimeoutMillis = member, 10000, 10000
	v.Members = append(v.Members, m)
	p.Load(groupKey(group), v.AppendTo(nil))
}

func commitReq(group, member string, generation int32, topic string, partition int32, offset int64) *kmsg.OffsetCommitRequest {
	r := kmsg.NewPtrOffsetCommitRequest()
	r.SetVersion(8)
	r.Group, r.MemberID, r.Generation = group, member, generation
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset = partition, offset
	rt.Partitions = append(rt.Partitions, rp)
	r.Topics = append(r.Topics, rt)
	return r
}

// TestOffsetExpiry: a standalone consumer's offsets expire one by one,
// retention after each commit; an empty group that ran a protocol loses all
// its offsets together, retention after it emptied, and is deleted; a group
// with members keeps its offsets however old. Expiry writes tombstones, so a
// reloaded partition agrees.
func TestOffsetExpiry(t *testing.T) {
	const retention = time.Hour
	clock := testkit.NewClock(time.UnixMilli(1_700_000_000_000))
	l := &memLog{}
	// Not started: the test runs the expiry passes itself, on its clock.
	p := NewPartition(Config{Log: l, Now: clock.Now, MinSession: time.Millisecond, OffsetRetention: retention})
	ctx := context.Background()
	fetch := func(q *Partition, group, topic string, part int32) int64 {
		ts := []kmsg.OffsetFetchRequestTopic{{Topic: topic, Partitions: []int32{part}}}
		return q.FetchGroup(group, ts, false, false)[0].Partitions[0].Offset
	}

	// Standalone offsets, committed 40 minutes apart.
	if r := p.Commit(ctx, commitReq("solo", "", -1, "t", 0, 10)); r.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatal("commit solo t/0")
	}
	clock.Advance(40 * time.Minute)
	p.Commit(ctx, commitReq("solo", "", -1, "t", 1, 20))

	// A classic group that is running (one member), as a restart finds it.
	loadGroup(p, "live", "m1")
	p.Commit(ctx, commitReq("live", "m1", 1, "t", 0, 30))

	clock.Advance(30 * time.Minute) // solo t/0 is 70 min old, t/1 30 min
	p.expireOffsets(ctx, clock.Now())
	if got := fetch(p, "solo", "t", 0); got != -1 {
		t.Fatalf("solo t/0 committed 70 minutes ago still at %d", got)
	}
	if got := fetch(p, "solo", "t", 1); got != 20 {
		t.Fatalf("solo t/1 committed 30 minutes ago: %d, want 20", got)
	}

	clock.Advance(2 * time.Hour) // the live group's offset is old, but it has a member
	p.expireOffsets(ctx, clock.Now())
	if got := fetch(p, "live", "t", 0); got != 30 {
		t.Fatalf("a group with a member lost its offset: %d", got)
	}
	if got := fetch(p, "solo", "t", 1); got != -1 {
		t.Fatalf("solo t/1 committed 2.5 hours ago still at %d", got)
	}

	// The member leaves: the group is empty from now; its offset lasts
	// another retention.
	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.SetVersion(3)
	leave.Group = "live"
	leave.Members = []kmsg.LeaveGroupRequestMember{{MemberID: "m1"}}
	if r := p.Leave(leave); r.ErrorCode != 0 || r.Members[0].ErrorCode != 0 {
		t.Fatalf("leave: %+v", r)
	}
	clock.Advance(30 * time.Minute)
	p.expireOffsets(ctx, clock.Now())
	if got := fetch(p, "live", "t", 0); got != 30 {
		t.Fatalf("offset of a group empty for 30 minutes: %d, want 30", got)
	}
	clock.Advance(time.Hour)
	p.expireOffsets(ctx, clock.Now())
	if got := fetch(p, "live", "t", 0); got != -1 {
		t.Fatalf("offset of a group empty for 90 minutes still at %d", got)
	}
	if len(p.List(nil, nil)) != 0 {
		t.Fatalf("groups left after every offset expired: %+v", p.List(nil, nil))
	}

	// The tombstones make a reload agree.
	q := NewPartition(Config{Log: &memLog{}, Now: clock.Now})
	for _, r := range l.recs {
		q.Load(r.Key, r.Value)
	}
	q.LoadDone()
	if fetch(q, "solo", "t", 1) != -1 || fetch(q, "live", "t", 0) != -1 || len(q.List(nil, nil)) != 0 {
		t.Fatal("a reloaded partition still has expired offsets or groups")
	}
}
