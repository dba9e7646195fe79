// Package group is the consumer group coordinator of one __consumer_offsets
// partition: classic group membership, rebalances, session timeouts, static
// membership and committed offsets, and KIP-848 consumer groups with
// server-side assignment (consumer.go). It knows nothing of
// the network or of Raft: the shard hands it decoded requests and a Log to
// make its records durable, and feeds it the partition's records on load.
//
// Ownership: a Partition owns its map of groups (Partition.mu); each Group
// owns its state under its own mutex (Group.lk). Lock order: Group.lk, then
// Partition.mu (DeleteGroups drops a group from the map); Partition.mu is
// never held while taking a group's lock or while waiting. Group.lk is held
// across the durable write of the group's records (Log.Append), which
// keeps the log in the order of the in-memory changes. Requests that
// must wait (JoinGroup for the rebalance, SyncGroup for the leader) register
// a channel under Group.mu and wait on it without the lock.
package group

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Topic is the internal topic holding group metadata and offsets.
const Topic = "__consumer_offsets"

// Record is one record of the group's partition: a Kafka __consumer_offsets
// key and value (nil value: a tombstone).
type Record struct{ Key, Value []byte }

// Log makes records durable in the coordinator's partition. Append is called
// from request goroutines with a Group.mu held, and blocks until the records
// are committed (acks=all) or fail; it must not call back into the group.
type Log interface {
	Append(ctx context.Context, recs []Record) error
}

// ErrNotCoordinator is returned by a Log that lost the partition; requests
// then answer NOT_COORDINATOR so the client looks the coordinator up again.
var ErrNotCoordinator = errors.New("not the coordinator")

// Config shapes a Partition.
type Config struct {
	Log    Log
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// InitialRebalanceDelay holds the first rebalance of an empty group so
	// that members starting together join one generation
	// (group.initial.rebalance.delay.ms, KIP-134).
	InitialRebalanceDelay time.Duration
	// MinSession and MaxSession bound the session timeouts members may ask
	// for (group.min/max.session.timeout.ms); outside: INVALID_SESSION_TIMEOUT.
	MinSession, MaxSession time.Duration
	// ValidPartition says whether a topic partition exists, for OffsetCommit;
	// nil accepts every partition.
	ValidPartition func(topic string, partition int32) bool

	// KIP-848 consumer groups.
	// ConsumerSession is group.consumer.session.timeout.ms: a member not
	// heard from for this long is removed (default 45 s).
	ConsumerSession time.Duration
	// ConsumerHeartbeat is group.consumer.heartbeat.interval.ms, handed to
	// members (default 5 s).
	ConsumerHeartbeat time.Duration
	// ConsumerMaxSize is group.consumer.max.size; 0 means no limit.
	ConsumerMaxSize int
	// LookupTopic finds a topic by name, ListTopics lists the topics a
	// regex subscription may match (internal ones excluded). Called with a
	// group locked; they must not block. Nil: no topics (tests).
	LookupTopic func(name string) (TopicInfo, bool)
	ListTopics  func() []TopicInfo

	// OffsetRetention is how long committed offsets outlive their group
	// (offsets.retention.minutes; expiry.go); 0 or less keeps them forever.
	OffsetRetention time.Duration
	// OffsetExpiryCheck is how often expiry runs (default 1 minute).
	OffsetExpiryCheck time.Duration
}

// state is a group's classic state, named as Kafka names it (ListGroups
// and DescribeGroups show these strings).
type state int8

const (
	stateEmpty state = iota
	statePreparingRebalance
	stateCompletingRebalance
	stateStable
	stateDead
)

var stateNames = [...]string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"}

func (s state) String() string { return stateNames[s] }

// member is one member of a group.
type member struct {
	id         string
	instanceID *string // group.instance.id (KIP-345); nil for dynamic members
	clientID   string
	clientHost string
	protocols  []kmsg.JoinGroupRequestProtocol
	session    time.Duration
	rebalance  time.Duration
	assignment []byte
	lastSeen   time.Time // last join, sync or heartbeat: the session timer runs from here

	joinCh      chan *kmsg.JoinGroupResponse // set while the member waits in JoinGroup
	joinVersion int16
	syncCh      chan syncResult // set while the member waits in SyncGroup
}

type syncResult struct {
	code       int16
	assignment []byte
}

// committed is one committed offset.
type committed struct {
	offset     int64
	epoch      int32
	metadata   string
	commitTime int64 // ms
}

// Group is one consumer group. Its fields are guarded by mu.
type Group struct {
	lk sync.Mutex
	p  *Partition
	id string

	st           state
	protocolType string
	protocol     string // selected protocol; "" when none
	generation   int32
	leader       string
	members      map[string]*member
	order        []string             // member ids in join order: the leader is picked from here
	static       map[string]string    // group.instance.id -> member id (KIP-345)
	pending      map[string]time.Time // member ids handed out with MEMBER_ID_REQUIRED (KIP-394), until expiry
	offsets      map[string]map[int32]committed
	txn          map[int64]txnPending // producer id -> offsets its open transaction commits (txnoffsets.go)
	cg           *consumerGroup       // KIP-848 state; nil for a classic group (consumer.go)
	stateSince   time.Time
	rebalanceEnd time.Time // PreparingRebalance: members not rejoined by then are removed
	notBefore    time.Time // PreparingRebalance: the join does not complete before (initial delay)
}

func newMemberID(clientID string) string {
	var b [16]byte
	rand.Read(b[:])
	return clientID + "-" + hex.EncodeToString(b[:4]) + "-" + hex.EncodeToString(b[4:6]) + "-" +
		hex.EncodeToString(b[6:8]) + "-" + hex.EncodeToString(b[8:10]) + "-" + hex.EncodeToString(b[10:])
}

func (g *Group) now() time.Time { return g.p.now() }

func (g *Group) setState(s state) {
	g.st = s
	g.stateSince = g.now()
}

// exists says whether the group is visible to List/Describe/Delete: it has
// members or offsets, or has been through a generation.
func (g *Group) exists() bool {
	return g.st != stateDead && (len(g.members) > 0 || len(g.offsets) > 0 || g.generation > 0 || len(g.pending) > 0 || len(g.txn) > 0 || g.cg != nil)
}

// supports says whether every current member supports the protocol name.
func (g *Group) supports(name string) bool {
	for _, m := range g.members {
		found := false
		for _, p := range m.protocols {
			if p.Name == name {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// compatible says whether a joining member with these protocols can be in
// the group: same protocol type, and at least one protocol every current
// member also supports.
func (g *Group) compatible(protocolType string, protos []kmsg.JoinGroupRequestProtocol, self string) bool {
	if len(protos) == 0 || protocolType == "" {
		return false
	}
	others := 0
	for id := range g.members {
		if id != self {
			others++
		}
	}
	if others == 0 {
		return true
	}
	if protocolType != g.protocolType {
		return false
	}
	for _, p := range protos {
		ok := true
		for id, m := range g.members {
			if id == self {
				continue
			}
			if !hasProtocol(m.protocols, p.Name) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func hasProtocol(ps []kmsg.JoinGroupRequestProtocol, name string) bool {
	for _, p := range ps {
		if p.Name == name {
			return true
		}
	}
	return false
}

func sameProtocols(a, b []kmsg.JoinGroupRequestProtocol) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || string(a[i].Metadata) != string(b[i].Metadata) {
			return false
		}
	}
	return true
}

// selectProtocol picks the first protocol, in the leader's order of
// preference, that every member supports.
func (g *Group) selectProtocol() string {
	l := g.members[g.leader]
	if l == nil {
		return ""
	}
	for _, p := range l.protocols {
		if g.supports(p.Name) {
			return p.Name
		}
	}
	return ""
}

func (m *member) metadata(protocol string) []byte {
	for _, p := range m.protocols {
		if p.Name == protocol {
			return p.Metadata
		}
	}
	return nil
}

// addMember registers m (new to the group).
func (g *Group) addMember(m *member) {
	g.members[m.id] = m
	g.order = append(g.order, m.id)
	if m.instanceID != nil {
		g.static[*m.instanceID] = m.id
	}
	if g.leader == "" {
		g.leader = m.id
	}
}

// removeMember drops a member, answering any request it has waiting with
// code, and moves the group on (rebalance, or completion of one).
func (g *Group) removeMember(m *member, code int16) {
	delete(g.members, m.id)
	for i, id := range g.order {
		if id == m.id {
			g.order = append(g.order[:i:i], g.order[i+1:]...)
			break
		}
	}
	if m.instanceID != nil && g.static[*m.instanceID] == m.id {
		delete(g.static, *m.instanceID)
	}
	if m.joinCh != nil {
		m.joinCh <- joinError(m.joinVersion, code, m.id)
		m.joinCh = nil
	}
	if m.syncCh != nil {
		m.syncCh <- syncResult{code: code}
		m.syncCh = nil
	}
	if g.leader == m.id {
		g.leader = ""
		if len(g.order) > 0 {
			g.leader = g.order[0]
		}
	}
	switch g.st {
	case stateStable, stateCompletingRebalance:
		g.prepareRebalance()
		g.maybeCompleteJoin() // the last member left: Empty at once
	case statePreparingRebalance:
		g.maybeCompleteJoin()
	}
}

// prepareRebalance starts a rebalance: every member must rejoin within the
// largest rebalance timeout of the group.
func (g *Group) prepareRebalance() {
	if g.st == stateCompletingRebalance {
		// Members waiting for the leader's assignment must rejoin instead.
		for _, m := range g.members {
			if m.syncCh != nil {
				m.syncCh <- syncResult{code: codeRebalanceInProgress}
				m.syncCh = nil
			}
		}
	}
	wasEmpty := g.st == stateEmpty
	g.setState(statePreparingRebalance)
	now := g.now()
	var rt time.Duration
	for _, m := range g.members {
		rt = max(rt, m.rebalance)
	}
	g.rebalanceEnd = now.Add(rt)
	g.notBefore = now
	if wasEmpty && g.p.cfg.InitialRebalanceDelay > 0 {
		// KIP-134: a new group waits a little for more members before its
		// first generation, bounded by the rebalance timeout.
		g.notBefore = now.Add(min(g.p.cfg.InitialRebalanceDelay, rt))
	}
}

func (g *Group) allJoined() bool {
	if len(g.pending) > 0 {
		return false
	}
	for _, m := range g.members {
		if m.joinCh == nil {
			return false
		}
	}
	return true
}

// maybeCompleteJoin completes the rebalance once every known member has
// rejoined (and the initial delay has passed).
func (g *Group) maybeCompleteJoin() {
	if g.st != statePreparingRebalance {
		return
	}
	if g.allJoined() && !g.now().Before(g.notBefore) {
		g.completeJoin()
	}
}

// completeJoin ends the PreparingRebalance phase: members that did not
// rejoin are dropped, the generation moves on, a protocol and a leader are
// chosen and every waiting member gets its JoinGroup answer.
func (g *Group) completeJoin() {
	for _, id := range append([]string(nil), g.order...) {
		if m := g.members[id]; m != nil && m.joinCh == nil {
			delete(g.members, id)
			for i, oid := range g.order {
				if oid == id {
					g.order = append(g.order[:i:i], g.order[i+1:]...)
					break
				}
			}
			if m.instanceID != nil && g.static[*m.instanceID] == id {
				delete(g.static, *m.instanceID)
			}
			g.p.log.Info("member removed: did not rejoin in time", "group", g.id, "member", id)
		}
	}
	clear(g.pending)
	g.generation++
	if len(g.members) == 0 {
		g.protocol, g.leader = "", ""
		g.setState(stateEmpty)
		// Written so that a restart does not resume members that are gone.
		g.append(context.Background(), []Record{g.metadataRecord()})
		return
	}
	if g.members[g.leader] == nil {
		g.leader = g.order[0]
	}
	g.protocol = g.selectProtocol()
	g.setState(stateCompletingRebalance)
	now := g.now()
	for _, m := range g.members {
		m.lastSeen = now
		m.assignment = nil
		m.joinCh <- g.joinResponse(m, m.joinVersion)
		m.joinCh = nil
	}
	g.p.log.Debug("group rebalanced", "group", g.id, "generation", g.generation, "members", len(g.members), "protocol", g.protocol)
}

// joinResponse is a successful JoinGroup answer for m in the current
// generation; the leader gets every member's metadata.
func (g *Group) joinResponse(m *member, version int16) *kmsg.JoinGroupResponse {
	r := kmsg.NewPtrJoinGroupResponse()
	r.SetVersion(version)
	r.Generation = g.generation
	pt, pn := g.protocolType, g.protocol
	r.ProtocolType, r.Protocol = &pt, &pn
	r.LeaderID = g.leader
	r.MemberID = m.id
	if m.id == g.leader {
		for _, id := range g.order {
			om := g.members[id]
			rm := kmsg.NewJoinGroupResponseMember()
			rm.MemberID = om.id
			rm.InstanceID = om.instanceID
			rm.ProtocolMetadata = om.metadata(g.protocol)
			r.Members = append(r.Members, rm)
		}
	}
	return r
}

func joinError(version int16, code int16, memberID string) *kmsg.JoinGroupResponse {
	r := kmsg.NewPtrJoinGroupResponse()
	r.SetVersion(version)
	r.ErrorCode = code
	r.Generation = -1
	r.MemberID = memberID
	return r
}

// tick runs the group's timers: session expiry, KIP-394 pending member
// expiry, and the rebalance deadline.
func (g *Group) tick(now time.Time) {
	if g.st == stateDead {
		return
	}
	if g.cg != nil {
		g.tickConsumer(now)
		return
	}
	for id, exp := range g.pending {
		if now.After(exp) {
			delete(g.pending, id)
		}
	}
	for _, id := range append([]string(nil), g.order...) {
		m := g.members[id]
		if m == nil || m.joinCh != nil {
			continue // waiting in JoinGroup: bounded by the rebalance timeout instead
		}
		if now.Sub(m.lastSeen) > m.session {
			g.p.log.Info("member session expired", "group", g.id, "member", id)
			g.removeMember(m, codeUnknownMemberID)
		}
	}
	if g.st == statePreparingRebalance {
		if !now.Before(g.rebalanceEnd) {
			g.completeJoin()
		} else {
			g.maybeCompleteJoin()
		}
	}
}
