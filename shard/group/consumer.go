package group

// KIP-848 consumer groups: the coordinator assigns partitions itself and
// hands them out over ConsumerGroupHeartbeat. The state of such a group
// hangs off Group.cg (nil for a classic group) under the same Group lock:
//
//   - the group epoch moves on every change of membership, subscriptions or
//     subscribed topics' partitions;
//   - the target assignment (one partition set per member) is recomputed by
//     the group's assignor at each group epoch, and carries that epoch as
//     its assignment epoch;
//   - each member reconciles towards its target one heartbeat at a time
//     (reconcile): partitions it must give up are revoked first, with its
//     epoch unchanged; once its heartbeat no longer lists them it moves to
//     the assignment epoch and gets the new partitions that no other member
//     still holds. No partition is ever held by two members.

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"maps"
	"slices"
	"time"
)

// TopicInfo is what the KIP-848 assignors need of a topic.
type TopicInfo struct {
	Name       string
	ID         [16]byte // Kafka's topic id
	Partitions int32
}

// tp is one topic partition, by topic id.
type tp struct {
	id [16]byte
	p  int32
}

// partSet is a set of topic partitions.
type partSet map[tp]struct{}

func (s partSet) byTopic() map[[16]byte][]int32 {
	out := map[[16]byte][]int32{}
	for k := range s {
		out[k.id] = append(out[k.id], k.p)
	}
	for id := range out {
		slices.Sort(out[id])
	}
	return out
}

func sortedIDs[V any](m map[[16]byte]V) [][16]byte {
	ids := slices.Collect(maps.Keys(m))
	slices.SortFunc(ids, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
	return ids
}

func (s partSet) equal(o partSet) bool {
	if len(s) != len(o) {
		return false
	}
	for k := range s {
		if _, ok := o[k]; !ok {
			return false
		}
	}
	return true
}

// memberState is a member's reconciliation state, numbered as Kafka's
// MemberState (the State of ConsumerGroupCurrentMemberAssignment).
type memberState int8

const (
	memberStable     memberState = 0 // holds its whole target at the assignment epoch
	memberUnrevoked  memberState = 1 // must first give up partitions (revoking)
	memberUnreleased memberState = 2 // at the assignment epoch, waiting for partitions others still hold
)

// Member epochs of ConsumerGroupHeartbeat.
const (
	epochJoin        = 0
	epochLeave       = -1
	epochLeaveStatic = -2 // a static member that will come back
)

// cmember is one member of a consumer group.
type cmember struct {
	id                 string
	instanceID, rackID *string
	clientID           string
	clientHost         string
	topics             []string      // subscribed topic names, sorted
	regex              *string       // subscribed topic regex; nil for none
	assignor           *string       // server assignor asked for; nil for none
	rebalance          time.Duration // how long it may take to revoke partitions

	epoch, prevEpoch int32 // member epoch (epochLeaveStatic after a static leave) and the one before
	state            memberState
	assigned         partSet // partitions it holds
	revoking         partSet // partitions it was told to give up and still holds
	lastSeen         time.Time
	revokeDeadline   time.Time // memberUnrevoked: fenced if not revoked by then
}

// consumerGroup is the KIP-848 state of a group.
type consumerGroup struct {
	epoch       int32                // group epoch
	assignEpoch int32                // epoch of the target assignment
	assignor    string               // assignor of the last target assignment
	subMeta     map[string]TopicInfo // subscribed topics as of the group epoch
	members     map[string]*cmember
	target      map[string]partSet // member id -> target assignment
	static      map[string]string  // group.instance.id -> member id
}

func newConsumerGroup() *consumerGroup {
	return &consumerGroup{subMeta: map[string]TopicInfo{}, members: map[string]*cmember{},
		target: map[string]partSet{}, static: map[string]string{}}
}

// dropMember forgets m (replay and removal).
func (cg *consumerGroup) dropMember(m *cmember) {
	delete(cg.members, m.id)
	if m.instanceID != nil && cg.static[*m.instanceID] == m.id {
		delete(cg.static, *m.instanceID)
	}
}

// stateName is the group state as ListGroups and ConsumerGroupDescribe
// show it.
func (cg *consumerGroup) stateName() string {
	switch {
	case len(cg.members) == 0:
		return "Empty"
	case cg.epoch > cg.assignEpoch:
		return "Assigning"
	}
	for _, m := range cg.members {
		if m.epoch != cg.assignEpoch || m.state != memberStable {
			return "Reconciling"
		}
	}
	return "Stable"
}

// heldByOthers is every partition held (assigned or being revoked) by a
// member other than self.
func (cg *consumerGroup) heldByOthers(self string) partSet {
	out := partSet{}
	for id, m := range cg.members {
		if id == self {
			continue
		}
		for k := range m.assigned {
			out[k] = struct{}{}
		}
		for k := range m.revoking {
			out[k] = struct{}{}
		}
	}
	return out
}

// reconcile moves m one step towards its target assignment and says
// whether its assignment, epoch or state changed. owned is what the
// member's heartbeat says it holds (nil: not sent, unchanged).
func (cg *consumerGroup) reconcile(m *cmember, owned partSet, now time.Time) bool {
	beforeEpoch, beforePrev, beforeState := m.epoch, m.prevEpoch, m.state
	beforeA, beforeR := maps.Clone(m.assigned), maps.Clone(m.revoking)
	target := cg.target[m.id]
	if len(m.revoking) > 0 && owned != nil {
		still := partSet{}
		for k := range m.revoking {
			if _, ok := owned[k]; ok {
				still[k] = struct{}{}
			}
		}
		m.revoking = still
	}
	// Partitions no longer in the target are revoked, even while a
	// revocation is already under way.
	for k := range m.assigned {
		if _, ok := target[k]; !ok {
			delete(m.assigned, k)
			m.revoking[k] = struct{}{}
		}
	}
	if len(m.revoking) > 0 {
		if m.state != memberUnrevoked {
			m.revokeDeadline = now.Add(m.rebalance)
		}
		m.state = memberUnrevoked
	} else {
		held := cg.heldByOthers(m.id)
		for k := range target {
			if _, ok := held[k]; !ok {
				m.assigned[k] = struct{}{}
			}
		}
		if m.epoch != cg.assignEpoch {
			m.prevEpoch, m.epoch = m.epoch, cg.assignEpoch
		}
		m.state = memberStable
		if len(m.assigned) != len(target) {
			m.state = memberUnreleased
		}
	}
	return beforeEpoch != m.epoch || beforePrev != m.prevEpoch || beforeState != m.state ||
		!beforeA.equal(m.assigned) || !beforeR.equal(m.revoking)
}

// newMemberUUID is a member id as Kafka makes them: 16 random bytes in
// URL-safe base64.
func newMemberUUID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.URLEncoding.EncodeToString(b[:])
}
