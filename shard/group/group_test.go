package group

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/testkit"
)

func TestPartitionerMatchesKafka(t *testing.T) {
	for _, c := range []struct {
		group string
		n     int32
		want  int32
	}{
		{"hello", 50, 99162322 % 50},   // "hello".hashCode() = 99162322
		{"foo", 16, 101574 % 16},       // "foo".hashCode() = 101574
		{"polygenelubricants", 16, 0},  // hashCode() = Integer.MIN_VALUE: Utils.abs gives 0
		{"", 16, 0},                    // hashCode() = 0
		{"\U0001F600", 7, 1772899 % 7}, // a surrogate pair: 31*0xD83D + 0xDE00
	} {
		if got := Partitioner(c.group, c.n); got != c.want {
			t.Errorf("Partitioner(%q, %d) = %d, want %d", c.group, c.n, got, c.want)
		}
	}
}

// memLog keeps appended records, to replay them into a new Partition.
type memLog struct {
	mu   sync.Mutex
	recs []Record
	fail error
}

func (l *memLog) Append(_ context.Context, recs []Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return l.fail
	}
	l.recs = append(l.recs, recs...)
	return nil
}

func newTestPartition(l *memLog) *Partition {
	p := NewPartition(Config{Log: l, MinSession: time.Millisecond})
	p.Start()
	return p
}

func joinReq(group, member string, version int16) *kmsg.JoinGroupRequest {
	r := kmsg.NewPtrJoinGroupRequest()
	r.SetVersion(version)
	r.Group, r.MemberID, r.ProtocolType = group, member, "consumer"
	r.SessionTimeoutMillis, r.RebalanceTimeoutMillis = 10000, 10000
	r.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte("m-" + member)}}
	return r
}

func TestJoinSyncHeartbeatCodes(t *testing.T) {
	l := &memLog{}
	p := newTestPartition(l)
	defer p.Close()
	ctx := context.Background()

	// KIP-394: v4+ first join gets MEMBER_ID_REQUIRED with an id to use.
	r := p.Join(ctx, joinReq("g", "", 9), "c", "h")
	if r.ErrorCode != kerr.MemberIDRequired.Code || r.MemberID == "" {
		t.Fatalf("first join: code %d member %q", r.ErrorCode, r.MemberID)
	}
	id := r.MemberID
	r = p.Join(ctx, joinReq("g", id, 9), "c", "h")
	if r.ErrorCode != 0 || r.Generation != 1 || r.LeaderID != id || len(r.Members) != 1 {
		t.Fatalf("second join: %+v", r)
	}

	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group, sync.MemberID, sync.Generation = "g", "nobody", 1
	if s := p.Sync(ctx, sync); s.ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("sync from unknown member: %d", s.ErrorCode)
	}
	sync.MemberID, sync.Generation = id, 7
	if s := p.Sync(ctx, sync); s.ErrorCode != kerr.IllegalGeneration.Code {
		t.Fatalf("sync with a wrong generation: %d", s.ErrorCode)
	}
	sync.Generation = 1
	sync.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: id, MemberAssignment: []byte("a")}}
	if s := p.Sync(ctx, sync); s.ErrorCode != 0 || string(s.MemberAssignment) != "a" {
		t.Fatalf("leader sync: %+v", s)
	}
	if len(l.recs) != 1 {
		t.Fatalf("group metadata not written at sync: %d records", len(l.recs))
	}

	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation = "g", id, 1
	if h := p.Heartbeat(hb); h.ErrorCode != 0 {
		t.Fatalf("heartbeat: %d", h.ErrorCode)
	}
	hb.Generation = 0
	if h := p.Heartbeat(hb); h.ErrorCode != kerr.IllegalGeneration.Code {
		t.Fatalf("heartbeat with old generation: %d", h.ErrorCode)
	}
	hb.MemberID = "ghost"
	if h := p.Heartbeat(hb); h.ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("heartbeat from unknown member: %d", h.ErrorCode)
	}

	// The group comes back from its records.
	q := NewPartition(Config{Log: l})
	for _, rec := range l.recs {
		q.Load(rec.Key, rec.Value)
	}
	q.LoadDone()
	if d := q.Describe("g"); d.State != "Stable" || len(d.Members) != 1 || string(d.Members[0].MemberAssignment) != "a" {
		t.Fatalf("reloaded group: %+v", d)
	}
	if d := q.Describe("nope"); d.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("describe unknown: %d", d.ErrorCode)
	}
}

func TestStaticMemberFenced(t *testing.T) {
	p := newTestPartition(&memLog{})
	defer p.Close()
	ctx := context.Background()
	inst := "instance-1"
	req := joinReq("s", "", 9)
	req.InstanceID = &inst
	r := p.Join(ctx, req, "c", "h") // KIP-345: static members skip MEMBER_ID_REQUIRED
	if r.ErrorCode != 0 {
		t.Fatalf("static join: %d", r.ErrorCode)
	}
	old := r.MemberID
	r2 := p.Join(ctx, req, "c", "h") // restarted with the same instance id
	if r2.ErrorCode != 0 || r2.MemberID == old {
		t.Fatalf("static rejoin: %+v", r2)
	}
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation, hb.InstanceID = "s", old, r2.Generation, &inst
	if h := p.Heartbeat(hb); h.ErrorCode != kerr.FencedInstanceID.Code {
		t.Fatalf("old static member heartbeat: %d, want FENCED_INSTANCE_ID", h.ErrorCode)
	}
}

func TestCommitFetchDelete(t *testing.T) {
	l := &memLog{}
	p := newTestPartition(l)
	defer p.Close()
	ctx := context.Background()
	c := kmsg.NewPtrOffsetCommitRequest()
	c.SetVersion(8)
	c.Group, c.Generation = "o", -1
	c.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 3, Offset: 42}}}}
	if r := p.Commit(ctx, c); r.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("commit: %d", r.Topics[0].Partitions[0].ErrorCode)
	}
	got := p.FetchGroup("o", nil, true, false)
	if len(got) != 1 || got[0].Partitions[0].Offset != 42 {
		t.Fatalf("fetch: %+v", got)
	}
	l.fail = context.DeadlineExceeded
	if r := p.Commit(ctx, c); r.Topics[0].Partitions[0].ErrorCode == 0 {
		t.Fatal("commit answered without a durable write")
	}
	l.fail = nil
	if code := p.Delete(ctx, "o"); code != 0 {
		t.Fatalf("delete: %d", code)
	}
	if code := p.Delete(ctx, "o"); code != kerr.GroupIDNotFound.Code {
		t.Fatalf("delete again: %d", code)
	}
	q := NewPartition(Config{Log: l})
	for _, rec := range l.recs {
		q.Load(rec.Key, rec.Value)
	}
	q.LoadDone()
	if got := q.FetchGroup("o", nil, true, false); len(got) != 0 {
		t.Fatalf("deleted group's offsets came back: %+v", got)
	}
}

func TestSessionTimeoutExpiresMember(t *testing.T) {
	clk := testkit.NewClock(time.Unix(1000, 0))
	p := NewPartition(Config{Log: &memLog{}, Now: clk.Now, MinSession: time.Millisecond, InitialRebalanceDelay: time.Second})
	p.Start()
	defer p.Close()
	ctx := context.Background()

	// Two members join generation 1 (v3: no MEMBER_ID_REQUIRED) within the
	// initial rebalance delay (KIP-134).
	res := make(chan *kmsg.JoinGroupResponse, 2)
	for i := 0; i < 2; i++ {
		go func() { res <- p.Join(ctx, joinReq("e", "", 3), "c", "h") }()
	}
	time.Sleep(3 * tickEvery)
	clk.Advance(time.Second)
	var ids []string
	var gen int32
	deadline := time.After(10 * time.Second)
	for len(ids) < 2 {
		select {
		case r := <-res:
			if r.ErrorCode != 0 {
				t.Fatalf("join: %d", r.ErrorCode)
			}
			ids, gen = append(ids, r.MemberID), r.Generation
		case <-deadline:
			t.Fatal("joins did not complete")
		}
	}
	for _, id := range ids {
		s := kmsg.NewPtrSyncGroupRequest()
		s.Group, s.MemberID, s.Generation = "e", id, gen
		go p.Sync(ctx, s)
	}
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation = "e", ids[0], gen
	waitCode := func(want int16) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); ; {
			if h := p.Heartbeat(hb); h.ErrorCode == want {
				return
			} else if time.Now().After(end) {
				t.Fatalf("heartbeat: %d, want %d (%+v)", h.ErrorCode, want, p.Describe("e"))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(3 * tickEvery) // the syncs land
	// Member 1 goes silent past its 10s session while member 0 heartbeats.
	for i := 0; i < 8; i++ {
		clk.Advance(2 * time.Second)
		p.Heartbeat(hb)
		time.Sleep(2 * tickEvery)
	}
	waitCode(kerr.RebalanceInProgress.Code)
	r := p.Join(ctx, joinReq("e", ids[0], 3), "c", "h")
	if r.ErrorCode != 0 || r.Generation != gen+1 || len(r.Members) != 1 || r.LeaderID != ids[0] {
		t.Fatalf("rejoin after the other member expired: %+v", r)
	}
	hb.MemberID = ids[1]
	hb.Generation = r.Generation
	if h := p.Heartbeat(hb); h.ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("expired member heartbeat: %d, want UNKNOWN_MEMBER_ID", h.ErrorCode)
	}
}
