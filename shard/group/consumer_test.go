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

// cgEnv is a coordinator with a fake clock and a topic catalog the test
// can change.
type cgEnv struct {
	t   *testing.T
	l   *memLog
	p   *Partition
	mu  sync.Mutex
	clk *testkit.Clock
	top map[string]TopicInfo
}

var topicT = TopicInfo{Name: "t", ID: [16]byte{1}, Partitions: 6}

func newCGEnv(t *testing.T) *cgEnv {
	e := &cgEnv{t: t, l: &memLog{}, clk: testkit.NewClock(time.Unix(1000, 0)), top: map[string]TopicInfo{"t": topicT}}
	e.p = e.open()
	e.p.Start()
	t.Cleanup(func() { e.p.Close() })
	return e
}

func (e *cgEnv) open() *Partition {
	return NewPartition(Config{Log: e.l, Now: e.clk.Now, ConsumerSession: 45 * time.Second,
		LookupTopic: func(n string) (TopicInfo, bool) {
			e.mu.Lock()
			defer e.mu.Unlock()
			ti, ok := e.top[n]
			return ti, ok
		},
		ListTopics: func() []TopicInfo {
			e.mu.Lock()
			defer e.mu.Unlock()
			var out []TopicInfo
			for _, ti := range e.top {
				out = append(out, ti)
			}
			return out
		}})
}

func (e *cgEnv) advance(d time.Duration) {
	e.clk.Advance(d)
	for _, g := range e.p.list() {
		g.mu().Lock()
		g.tick(e.clk.Now())
		g.mu().Unlock()
	}
}

// restart replays the log into a new coordinator, as the shard does when
// the partition opens again.
func (e *cgEnv) restart() {
	e.p.Close()
	e.p = e.open()
	for _, r := range e.l.recs {
		e.p.Load(r.Key, r.Value)
	}
	e.p.LoadDone()
	e.p.Start()
}

type hb struct {
	member   string
	epoch    int32
	owned    []int32 // partitions of topic t; nil: not sent
	topics   []string
	assignor *string
	inst     *string
}

func (e *cgEnv) hb(h hb) *kmsg.ConsumerGroupHeartbeatResponse {
	e.t.Helper()
	r := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	r.SetVersion(1)
	r.Group, r.MemberID, r.MemberEpoch, r.InstanceID, r.ServerAssignor = "g", h.member, h.epoch, h.inst, h.assignor
	if h.epoch == 0 {
		r.RebalanceTimeoutMillis = 10000
		r.SubscribedTopicNames = h.topics
		if r.SubscribedTopicNames == nil {
			r.SubscribedTopicNames = []string{"t"}
		}
		r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	} else if h.owned != nil {
		r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{{TopicID: topicT.ID, Partitions: h.owned}}
	}
	return e.p.ConsumerHeartbeat(context.Background(), r, "client", "/host")
}

func (e *cgEnv) ok(h hb) *kmsg.ConsumerGroupHeartbeatResponse {
	e.t.Helper()
	r := e.hb(h)
	if r.ErrorCode != 0 {
		e.t.Fatalf("heartbeat %+v: %v", h, kerr.ErrorForCode(r.ErrorCode))
	}
	return r
}

func (e *cgEnv) code(h hb, want *kerr.Error) {
	e.t.Helper()
	if r := e.hb(h); r.ErrorCode != want.Code {
		e.t.Fatalf("heartbeat %+v: got %v, want %v", h, kerr.ErrorForCode(r.ErrorCode), want)
	}
}

// parts is the assignment of a response (nil: none sent).
func parts(r *kmsg.ConsumerGroupHeartbeatResponse) []int32 {
	if r.Assignment == nil {
		return nil
	}
	out := []int32{}
	for _, t := range r.Assignment.Topics {
		out = append(out, t.Partitions...)
	}
	return out
}

// checkDisjoint fails if two members hold the same partition.
func (e *cgEnv) checkDisjoint() {
	e.t.Helper()
	g := e.p.group("g", false)
	defer g.mu().Unlock()
	seen := map[tp]string{}
	for id, m := range g.cg.members {
		for _, s := range []partSet{m.assigned, m.revoking} {
			for k := range s {
				if o, ok := seen[k]; ok && o != id {
					e.t.Fatalf("partition %d held by %s and %s", k.p, o, id)
				}
				seen[k] = id
			}
		}
	}
}

func TestConsumerGroupJoinRevokeThenAssign(t *testing.T) {
	e := newCGEnv(t)
	r := e.ok(hb{member: "a", epoch: 0})
	if r.MemberEpoch != 1 || len(parts(r)) != 6 || r.HeartbeatIntervalMillis != 5000 {
		t.Fatalf("first join: epoch %d parts %v interval %d", r.MemberEpoch, parts(r), r.HeartbeatIntervalMillis)
	}
	// b joins: the group moves to epoch 2, but a still holds everything.
	r = e.ok(hb{member: "b", epoch: 0})
	if r.MemberEpoch != 2 || len(parts(r)) != 0 {
		t.Fatalf("second join: epoch %d parts %v", r.MemberEpoch, parts(r))
	}
	// a is told to keep 3 and revoke 3, its epoch unchanged until it has.
	r = e.ok(hb{member: "a", epoch: 1, owned: []int32{0, 1, 2, 3, 4, 5}})
	aKeeps := parts(r)
	if r.MemberEpoch != 1 || len(aKeeps) != 3 {
		t.Fatalf("a revoking: epoch %d parts %v", r.MemberEpoch, aKeeps)
	}
	e.checkDisjoint()
	// b gets nothing while a has not revoked.
	if r = e.ok(hb{member: "b", epoch: 2}); len(parts(r)) != 0 {
		t.Fatalf("b before revocation: %v", parts(r))
	}
	// A keepalive (no owned partitions sent) does not count as revoked.
	if r = e.ok(hb{member: "a", epoch: 1}); r.MemberEpoch != 1 {
		t.Fatalf("a keepalive: epoch %d", r.MemberEpoch)
	}
	r = e.ok(hb{member: "a", epoch: 1, owned: aKeeps})
	if r.MemberEpoch != 2 {
		t.Fatalf("a after revoking: epoch %d", r.MemberEpoch)
	}
	r = e.ok(hb{member: "b", epoch: 2, owned: []int32{}})
	bGot := parts(r)
	if r.MemberEpoch != 2 || len(bGot) != 3 {
		t.Fatalf("b after a revoked: epoch %d parts %v", r.MemberEpoch, bGot)
	}
	for _, p := range bGot {
		for _, q := range aKeeps {
			if p == q {
				t.Fatalf("partition %d given to both", p)
			}
		}
	}
	e.checkDisjoint()
	if st := e.describe().State; st != "Stable" {
		t.Fatalf("state %s", st)
	}

	// b leaves: a gets everything at epoch 3.
	if r = e.ok(hb{member: "b", epoch: -1}); r.MemberEpoch != -1 {
		t.Fatalf("leave answer epoch %d", r.MemberEpoch)
	}
	r = e.ok(hb{member: "a", epoch: 2, owned: aKeeps})
	if r.MemberEpoch != 3 || len(parts(r)) != 6 {
		t.Fatalf("a after b left: epoch %d parts %v", r.MemberEpoch, parts(r))
	}
}

func (e *cgEnv) describe() kmsg.ConsumerGroupDescribeResponseGroup {
	return e.p.ConsumerDescribe("g", 1)
}

func TestConsumerGroupErrors(t *testing.T) {
	e := newCGEnv(t)
	e.ok(hb{member: "a", epoch: 0})
	e.code(hb{member: "a", epoch: 7}, kerr.FencedMemberEpoch)
	e.code(hb{member: "zz", epoch: 1}, kerr.UnknownMemberID)
	e.code(hb{member: "zz", epoch: -1}, kerr.UnknownMemberID)
	bad := "nope"
	e.code(hb{member: "b", epoch: 0, assignor: &bad}, kerr.UnsupportedAssignor)
	e.code(hb{member: "", epoch: 0}, kerr.InvalidRequest) // v1: the client names itself
	e.code(hb{member: "b", epoch: -3}, kerr.InvalidRequest)

	// Joining needs a rebalance timeout and a subscription.
	r := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	r.SetVersion(1)
	r.Group, r.MemberID = "g", "c"
	if resp := e.p.ConsumerHeartbeat(context.Background(), r, "c", "h"); resp.ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("join without fields: %v", kerr.ErrorForCode(resp.ErrorCode))
	}

	// Offset commits carry the member epoch.
	commit := func(member string, epoch int32) int16 {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.SetVersion(8)
		req.Group, req.MemberID, req.Generation = "g", member, epoch
		req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 5}}}}
		return e.p.Commit(context.Background(), req).Topics[0].Partitions[0].ErrorCode
	}
	if c := commit("a", 1); c != 0 {
		t.Fatalf("commit at the member epoch: %v", kerr.ErrorForCode(c))
	}
	if c := commit("a", 0); c != kerr.StaleMemberEpoch.Code {
		t.Fatalf("commit at a stale epoch: %v", kerr.ErrorForCode(c))
	}
	if c := commit("x", 1); c != kerr.UnknownMemberID.Code {
		t.Fatalf("commit by an unknown member: %v", kerr.ErrorForCode(c))
	}

	// A consumer group is not a classic group, and the other way round.
	j := e.p.Join(context.Background(), joinReq("g", "", 9), "c", "h")
	if j.ErrorCode != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("JoinGroup to a consumer group: %v", kerr.ErrorForCode(j.ErrorCode))
	}
	if d := e.p.Describe("g"); d.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("DescribeGroups of a consumer group: %v", kerr.ErrorForCode(d.ErrorCode))
	}
	ls := e.p.List(nil, []string{"consumer"})
	if len(ls) != 1 || ls[0].GroupType != "consumer" || ls[0].ProtocolType != "consumer" || ls[0].GroupState != "Stable" {
		t.Fatalf("ListGroups: %+v", ls)
	}
	if ls := e.p.List(nil, []string{"classic"}); len(ls) != 0 {
		t.Fatalf("ListGroups classic: %+v", ls)
	}

	// Static membership: an instance id still in use is refused.
	inst := "i1"
	e.ok(hb{member: "s1", epoch: 0, inst: &inst})
	e.code(hb{member: "s2", epoch: 0, inst: &inst}, kerr.UnreleasedInstanceID)
	g := e.p.group("g", false)
	s1 := g.cg.members["s1"].epoch
	g.mu().Unlock()
	e.ok(hb{member: "s1", epoch: -2, inst: &inst})
	// ... until it leaves as a static member: its replacement takes its
	// place and target without a new group epoch.
	before := e.describe().Epoch
	r2 := e.ok(hb{member: "s2", epoch: 0, inst: &inst})
	if e.describe().Epoch != before || r2.MemberEpoch < s1 {
		t.Fatalf("static replacement moved the group epoch %d -> %d (member epoch %d)", before, e.describe().Epoch, r2.MemberEpoch)
	}

	// A classic group with members refuses the new protocol.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.p.Join(ctx, joinReq("classic", "", 3), "c", "h")
	CheckCond(t, func() bool {
		g := e.p.group("classic", false)
		if g == nil {
			return false
		}
		defer g.mu().Unlock()
		return len(g.members) == 1
	})
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.SetVersion(1)
	req.Group, req.MemberID, req.RebalanceTimeoutMillis, req.SubscribedTopicNames = "classic", "m", 1000, []string{"t"}
	if resp := e.p.ConsumerHeartbeat(context.Background(), req, "c", "h"); resp.ErrorCode != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("heartbeat to a classic group: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
}

// CheckCond polls cond for up to 5 s.
func CheckCond(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met in 5s")
}

func TestConsumerGroupSessionExpiryAndRevocationTimeout(t *testing.T) {
	e := newCGEnv(t)
	e.ok(hb{member: "a", epoch: 0})
	e.ok(hb{member: "b", epoch: 0})
	e.ok(hb{member: "a", epoch: 1, owned: []int32{0, 1, 2, 3, 4, 5}}) // a must revoke 3
	// a keeps heartbeating without revoking: fenced after its rebalance
	// timeout (10 s), and its partitions go to b.
	e.advance(5 * time.Second)
	e.ok(hb{member: "a", epoch: 1})
	e.ok(hb{member: "b", epoch: 2})
	e.advance(6 * time.Second)
	e.code(hb{member: "a", epoch: 1}, kerr.UnknownMemberID)
	r := e.ok(hb{member: "b", epoch: 2, owned: []int32{}})
	if len(parts(r)) != 6 {
		t.Fatalf("b after a was fenced: %v", parts(r))
	}
	// b stops heartbeating: gone after the session timeout.
	e.advance(44 * time.Second)
	if d := e.describe(); len(d.Members) != 1 {
		t.Fatalf("members before expiry: %d", len(d.Members))
	}
	e.advance(2 * time.Second)
	if d := e.describe(); len(d.Members) != 0 || d.State != "Empty" {
		t.Fatalf("after expiry: %d members, state %s", len(d.Members), d.State)
	}
}

func TestConsumerGroupReplay(t *testing.T) {
	e := newCGEnv(t)
	e.ok(hb{member: "a", epoch: 0})
	e.ok(hb{member: "b", epoch: 0})
	r := e.ok(hb{member: "a", epoch: 1, owned: []int32{0, 1, 2, 3, 4, 5}})
	aKeeps := parts(r) // a is now revoking
	before := e.describe()

	e.restart()
	after := e.describe()
	if after.ErrorCode != 0 || after.Epoch != before.Epoch || after.AssignmentEpoch != before.AssignmentEpoch ||
		len(after.Members) != 2 || after.State != before.State {
		t.Fatalf("after restart: %+v\nbefore: %+v", after, before)
	}
	for i := range before.Members {
		bm, am := before.Members[i], after.Members[i]
		if bm.MemberID != am.MemberID || bm.MemberEpoch != am.MemberEpoch ||
			len(bm.Assignment.TopicPartitions) != len(am.Assignment.TopicPartitions) ||
			len(bm.TargetAssignment.TopicPartitions[0].Partitions) != len(am.TargetAssignment.TopicPartitions[0].Partitions) {
			t.Fatalf("member %d: before %+v after %+v", i, bm, am)
		}
	}
	// The group goes on where it was: b still waits, a finishes revoking.
	if r := e.ok(hb{member: "b", epoch: 2}); len(parts(r)) != 0 {
		t.Fatalf("b got %v before a revoked", parts(r))
	}
	e.checkDisjoint()
	if r := e.ok(hb{member: "a", epoch: 1, owned: aKeeps}); r.MemberEpoch != 2 {
		t.Fatalf("a epoch %d", r.MemberEpoch)
	}
	if r := e.ok(hb{member: "b", epoch: 2, owned: []int32{}}); len(parts(r)) != 3 {
		t.Fatalf("b got %v", parts(r))
	}
	e.checkDisjoint()

	// A left member stays gone after a restart.
	e.ok(hb{member: "b", epoch: -1})
	e.restart()
	if d := e.describe(); len(d.Members) != 1 || d.Members[0].MemberID != "a" {
		t.Fatalf("after leave and restart: %+v", d.Members)
	}
	// An empty group can be deleted, and the deletion survives a restart.
	e.ok(hb{member: "a", epoch: -1})
	if c := e.p.Delete(context.Background(), "g"); c != 0 {
		t.Fatalf("delete: %v", kerr.ErrorForCode(c))
	}
	e.restart()
	if d := e.describe(); d.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("deleted group after restart: %+v", d)
	}
}

func TestConsumerGroupMetadataChangeAndRange(t *testing.T) {
	e := newCGEnv(t)
	rng := AssignorRange
	e.ok(hb{member: "a", epoch: 0, assignor: &rng})
	e.ok(hb{member: "b", epoch: 0, assignor: &rng})
	r := e.ok(hb{member: "a", epoch: 1, owned: []int32{0, 1, 2, 3, 4, 5}})
	if got := parts(r); len(got) != 3 || got[0] != 0 || got[2] != 2 {
		t.Fatalf("range: a keeps %v, want 0-2", got)
	}
	if d := e.describe(); d.AssignorName != "range" {
		t.Fatalf("assignor %q", d.AssignorName)
	}
	e.ok(hb{member: "a", epoch: 1, owned: []int32{0, 1, 2}})
	e.ok(hb{member: "b", epoch: 2, owned: []int32{}})
	epoch := e.describe().Epoch
	e.restart()
	g := e.p.group("g", false)
	if a := g.cg.members["a"]; a == nil || a.rebalance != 10*time.Second || a.assignor == nil || *a.assignor != "range" ||
		len(a.topics) != 1 || a.clientID != "client" || a.clientHost != "/host" {
		t.Fatalf("member a after restart: %+v", a)
	}
	g.mu().Unlock()
	if d := e.describe(); d.AssignorName != "range" {
		t.Fatalf("assignor after restart %q", d.AssignorName)
	}
	// The topic grows to 8 partitions: a new group epoch at the next
	// heartbeat, and the new partitions are assigned.
	e.mu.Lock()
	e.top["t"] = TopicInfo{Name: "t", ID: topicT.ID, Partitions: 8}
	e.mu.Unlock()
	e.ok(hb{member: "a", epoch: 2})
	if d := e.describe(); d.Epoch != epoch+1 {
		t.Fatalf("epoch %d after the topic grew, want %d", d.Epoch, epoch+1)
	}
}

func TestUniformAssignorBalancedAndSticky(t *testing.T) {
	topics := map[string]TopicInfo{"t": {Name: "t", ID: [16]byte{1}, Partitions: 7}, "u": {Name: "u", ID: [16]byte{2}, Partitions: 5}}
	both := map[string]bool{"t": true, "u": true}
	ms := []assignMember{{"a", both}, {"b", both}, {"c", both}}
	a1 := assignUniform(ms, topics, nil)
	for id, ps := range a1 {
		if len(ps) != 4 {
			t.Fatalf("%s has %d partitions, want 4", id, len(ps))
		}
	}
	ms = append(ms, assignMember{"d", both})
	a2 := assignUniform(ms, topics, a1)
	moved := 0
	for _, id := range []string{"a", "b", "c"} {
		if n := len(a2[id]); n != 3 {
			t.Fatalf("%s has %d partitions, want 3", id, n)
		}
		for k := range a2[id] {
			if _, ok := a1[id][k]; !ok {
				moved++
			}
		}
	}
	if moved != 0 || len(a2["d"]) != 3 {
		t.Fatalf("adding a member moved %d partitions between old members; d has %d", moved, len(a2["d"]))
	}
	// Heterogeneous: only b subscribes to u.
	ms = []assignMember{{"a", map[string]bool{"t": true}}, {"b", both}}
	a3 := assignUniform(ms, topics, nil)
	for k := range a3["a"] {
		if k.id != topics["t"].ID {
			t.Fatalf("a got a partition of u")
		}
	}
	if len(a3["a"])+len(a3["b"]) != 12 {
		t.Fatalf("not every partition assigned: %d + %d", len(a3["a"]), len(a3["b"]))
	}
}

func TestConsumerGroupLostResponseRegexAndV0(t *testing.T) {
	e := newCGEnv(t)
	e.ok(hb{member: "a", epoch: 0})
	e.ok(hb{member: "b", epoch: 0})
	keep := parts(e.ok(hb{member: "a", epoch: 1, owned: []int32{0, 1, 2, 3, 4, 5}}))
	if r := e.ok(hb{member: "a", epoch: 1, owned: keep}); r.MemberEpoch != 2 {
		t.Fatalf("epoch %d", r.MemberEpoch)
	}
	// The answer was lost: a comes back with its previous epoch and what
	// it holds, and is told its epoch again.
	if r := e.ok(hb{member: "a", epoch: 1, owned: keep}); r.MemberEpoch != 2 {
		t.Fatalf("retry at the previous epoch: epoch %d", r.MemberEpoch)
	}
	// With partitions it does not hold, the previous epoch is fenced.
	e.code(hb{member: "a", epoch: 1, owned: []int32{0, 1, 2, 3, 4, 5}}, kerr.FencedMemberEpoch)

	// v0: the coordinator names the member.
	e.mu.Lock()
	e.top["other"] = TopicInfo{Name: "other", ID: [16]byte{9}, Partitions: 2}
	e.mu.Unlock()
	r := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	r.SetVersion(0)
	r.Group, r.RebalanceTimeoutMillis, r.SubscribedTopicNames = "v0", 1000, []string{"other"}
	resp := e.p.ConsumerHeartbeat(context.Background(), r, "c", "h")
	if resp.ErrorCode != 0 || resp.MemberID == nil || *resp.MemberID == "" || resp.MemberEpoch != 1 {
		t.Fatalf("v0 join: %+v", resp)
	}
	// v1: a regex subscription, matched in full against the topic names.
	r = kmsg.NewPtrConsumerGroupHeartbeatRequest()
	r.SetVersion(1)
	r.Group, r.MemberID, r.RebalanceTimeoutMillis = "rx", "m", 1000
	re := "oth.*"
	r.SubscribedTopicRegex = &re
	resp = e.p.ConsumerHeartbeat(context.Background(), r, "c", "h")
	if resp.ErrorCode != 0 || resp.Assignment == nil || len(resp.Assignment.Topics) != 1 ||
		resp.Assignment.Topics[0].TopicID != [16]byte{9} || len(resp.Assignment.Topics[0].Partitions) != 2 {
		t.Fatalf("regex join: %+v", resp)
	}
	bad := "("
	r.SubscribedTopicRegex, r.MemberID = &bad, "x"
	if resp := e.p.ConsumerHeartbeat(context.Background(), r, "c", "h"); resp.ErrorCode != kerr.InvalidRegularExpression.Code {
		t.Fatalf("bad regex: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
}
