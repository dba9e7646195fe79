package group

import (
	"context"
	"regexp"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var (
	codeInvalidRequest       = kerr.InvalidRequest.Code
	codeFencedMemberEpoch    = kerr.FencedMemberEpoch.Code
	codeStaleMemberEpoch     = kerr.StaleMemberEpoch.Code
	codeUnreleasedInstanceID = kerr.UnreleasedInstanceID.Code
	codeUnsupportedAssignor  = kerr.UnsupportedAssignor.Code
	codeGroupMaxSize         = kerr.GroupMaxSizeReached.Code
	codeInvalidRegex         = kerr.InvalidRegularExpression.Code
)

// ConsumerHeartbeat serves ConsumerGroupHeartbeat (KIP-848): join (member
// epoch 0), heartbeat (the member's epoch), leave (-1; -2 for a static
// member that will come back). The answer comes once the group's records
// are durable.
func (p *Partition) ConsumerHeartbeat(ctx context.Context, req *kmsg.ConsumerGroupHeartbeatRequest, clientID, clientHost string) *kmsg.ConsumerGroupHeartbeatResponse {
	resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	fail := func(code int16, msg string) *kmsg.ConsumerGroupHeartbeatResponse {
		resp.ErrorCode = code
		if msg != "" {
			resp.ErrorMessage = &msg
		}
		return resp
	}
	if code, msg := p.validateHeartbeat(req); code != 0 {
		return fail(code, msg)
	}
	if p.Closed() {
		return fail(codeNotCoordinator, "")
	}
	g := p.group(req.Group, req.MemberEpoch == epochJoin)
	if g == nil {
		return fail(codeUnknownMemberID, "")
	}
	defer g.mu().Unlock()
	if g.cg == nil {
		// KIP-848 without the online migration: only a group with no
		// classic members can become a consumer group.
		if len(g.members) > 0 || g.st != stateEmpty || len(g.pending) > 0 {
			return fail(codeInconsistentProtocol, "the group is a classic group with members")
		}
		if req.MemberEpoch != epochJoin {
			return fail(codeUnknownMemberID, "")
		}
		g.cg = newConsumerGroup()
	}
	code, msg, recs := g.consumerHeartbeat(req, resp, clientID, clientHost)
	if code != 0 {
		if len(g.cg.members) == 0 && g.cg.epoch == 0 {
			g.cg = nil // a failed first join leaves no group behind
		}
		return fail(code, msg)
	}
	if code := g.append(ctx, recs); code != 0 {
		return fail(code, "")
	}
	resp.HeartbeatIntervalMillis = int32(p.cfg.ConsumerHeartbeat / time.Millisecond)
	return resp
}

// validateHeartbeat checks the request's fields as Kafka does.
func (p *Partition) validateHeartbeat(req *kmsg.ConsumerGroupHeartbeatRequest) (int16, string) {
	switch {
	case req.Group == "":
		return codeInvalidRequest, "GroupId can't be empty."
	case req.InstanceID != nil && *req.InstanceID == "":
		return codeInvalidRequest, "InstanceId can't be empty."
	case req.RackID != nil && *req.RackID == "":
		return codeInvalidRequest, "RackId can't be empty."
	case req.MemberEpoch < epochLeaveStatic:
		return codeInvalidRequest, "MemberEpoch is invalid."
	case req.MemberEpoch == epochLeaveStatic && req.InstanceID == nil:
		return codeInvalidRequest, "InstanceId can't be null when leaving as a static member."
	case req.MemberID == "" && (req.Version >= 1 || req.MemberEpoch != epochJoin):
		return codeInvalidRequest, "MemberId can't be empty."
	}
	if req.MemberEpoch == epochJoin {
		switch {
		case req.RebalanceTimeoutMillis == -1:
			return codeInvalidRequest, "RebalanceTimeoutMs must be provided in first request."
		case len(req.Topics) > 0:
			return codeInvalidRequest, "TopicPartitions must be empty when (re-)joining."
		case req.SubscribedTopicNames == nil && req.SubscribedTopicRegex == nil:
			return codeInvalidRequest, "SubscribedTopicNames or SubscribedTopicRegex must be set in first request."
		}
	}
	if req.SubscribedTopicRegex != nil {
		if _, err := regexp.Compile(*req.SubscribedTopicRegex); err != nil {
			return codeInvalidRegex, err.Error()
		}
	}
	if req.ServerAssignor != nil && assignors[*req.ServerAssignor] == nil {
		return codeUnsupportedAssignor, "ServerAssignor " + *req.ServerAssignor + " is not supported."
	}
	return 0, ""
}

// consumerHeartbeat runs with the group locked. It fills resp, or returns
// an error code; recs are the records to make durable before answering.
func (g *Group) consumerHeartbeat(req *kmsg.ConsumerGroupHeartbeatRequest, resp *kmsg.ConsumerGroupHeartbeatResponse, clientID, clientHost string) (int16, string, []Record) {
	cg := g.cg
	now := g.now()
	var recs []Record
	if req.MemberEpoch == epochLeave || req.MemberEpoch == epochLeaveStatic {
		m := cg.members[req.MemberID]
		if m == nil {
			return codeUnknownMemberID, "", nil
		}
		id := req.MemberID
		resp.MemberID, resp.MemberEpoch = &id, req.MemberEpoch
		if req.MemberEpoch == epochLeaveStatic {
			// It keeps its partitions until it comes back under its
			// instance id or its session expires.
			m.epoch, m.lastSeen = epochLeaveStatic, now
			return 0, "", []Record{g.cgCurrentRecord(m)}
		}
		g.p.log.Info("consumer group member left", "group", g.id, "member", m.id)
		return 0, "", g.removeConsumerMember(m)
	}

	bump := false
	m := cg.members[req.MemberID]
	if req.MemberEpoch == epochJoin {
		id := req.MemberID
		if id == "" {
			id = newMemberUUID() // v0: the coordinator names members
		}
		m = cg.members[id]
		if req.InstanceID != nil {
			if cur, ok := cg.static[*req.InstanceID]; ok && cur != id {
				old := cg.members[cur]
				if old != nil && old.epoch != epochLeaveStatic {
					return codeUnreleasedInstanceID, "static member " + *req.InstanceID + " is still in the group", nil
				}
				if old != nil {
					// The static member is back under a new member id: it
					// takes the old one's place and target, without a new
					// group epoch.
					recs = append(recs, g.cgMemberTombstones(old.id)...)
					cg.dropMember(old)
					cg.target[id] = cg.target[old.id]
					delete(cg.target, old.id)
					recs = append(recs, g.cgTargetMemberRecord(id))
					m = &cmember{id: id, topics: old.topics, regex: old.regex, assignor: old.assignor,
						instanceID: old.instanceID, rebalance: old.rebalance, prevEpoch: old.prevEpoch}
					cg.members[id] = m
					cg.static[*req.InstanceID] = id
				}
			}
		}
		if m == nil {
			if max := g.p.cfg.ConsumerMaxSize; max > 0 && len(cg.members) >= max {
				return codeGroupMaxSize, "", nil
			}
			m = &cmember{id: id, rebalance: -1}
			cg.members[id] = m
			if _, ok := cg.target[id]; !ok {
				bump = true
			}
		}
		// Joining (or rejoining after an error) with nothing owned: the
		// member starts over and is sent its whole assignment.
		m.assigned, m.revoking, m.epoch, m.state = partSet{}, partSet{}, 0, memberStable
	} else {
		if m == nil {
			return codeUnknownMemberID, "", nil
		}
		if req.MemberEpoch > m.epoch {
			return codeFencedMemberEpoch, "", nil
		}
		if req.MemberEpoch < m.epoch {
			// The answer that moved the member on may have been lost:
			// accept its previous epoch if it holds no more than it
			// should.
			if req.MemberEpoch != m.prevEpoch || !g.subsetOfAssigned(m, req.Topics) {
				return codeFencedMemberEpoch, "", nil
			}
		}
	}
	m.lastSeen = now
	changedMeta := false
	setStr := func(dst **string, v *string) {
		if v != nil && (*dst == nil || **dst != *v) {
			s := *v
			*dst = &s
			changedMeta = true
		}
	}
	if req.SubscribedTopicNames != nil {
		names := slices.Clone(req.SubscribedTopicNames)
		slices.Sort(names)
		names = slices.Compact(names)
		if !slices.Equal(names, m.topics) {
			m.topics, changedMeta, bump = names, true, true
		}
	}
	if req.SubscribedTopicRegex != nil {
		old := m.regex
		if *req.SubscribedTopicRegex == "" {
			if m.regex != nil {
				m.regex, changedMeta, bump = nil, true, true
			}
		} else if setStr(&m.regex, req.SubscribedTopicRegex); old != m.regex {
			bump = true
		}
	}
	oldAssignor := m.assignor
	if setStr(&m.assignor, req.ServerAssignor); oldAssignor != m.assignor {
		bump = true
	}
	if req.InstanceID != nil && m.instanceID == nil {
		setStr(&m.instanceID, req.InstanceID)
		cg.static[*m.instanceID] = m.id
	}
	setStr(&m.rackID, req.RackID)
	if req.RebalanceTimeoutMillis >= 0 {
		if d := time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond; d != m.rebalance {
			m.rebalance, changedMeta = d, true
		}
	}
	if m.clientID != clientID || m.clientHost != clientHost {
		m.clientID, m.clientHost, changedMeta = clientID, clientHost, true
	}
	if changedMeta {
		recs = append(recs, g.cgMemberRecord(m))
	}
	if meta := g.subscriptionMeta(); bump || !sameMeta(meta, cg.subMeta) {
		recs = append(recs, g.newTargetAssignment(meta)...)
	}
	var owned partSet
	if req.Topics != nil {
		owned = g.ownedSet(req.Topics)
	}
	before := partSet{}
	for k := range m.assigned {
		before[k] = struct{}{}
	}
	if cg.reconcile(m, owned, now) || req.MemberEpoch == epochJoin {
		recs = append(recs, g.cgCurrentRecord(m))
	}
	id := m.id
	resp.MemberID, resp.MemberEpoch = &id, m.epoch
	full := req.MemberEpoch == epochJoin || (req.RebalanceTimeoutMillis != -1 &&
		(req.SubscribedTopicNames != nil || req.SubscribedTopicRegex != nil) && req.Topics != nil)
	if full || !before.equal(m.assigned) {
		a := kmsg.NewConsumerGroupHeartbeatResponseAssignment()
		byTopic := m.assigned.byTopic()
		for _, tid := range sortedIDs(byTopic) {
			at := kmsg.NewConsumerGroupHeartbeatResponseAssignmentTopic()
			at.TopicID, at.Partitions = tid, byTopic[tid]
			a.Topics = append(a.Topics, at)
		}
		resp.Assignment = &a
	}
	return 0, "", recs
}

func (g *Group) ownedSet(ts []kmsg.ConsumerGroupHeartbeatRequestTopic) partSet {
	out := partSet{}
	for _, t := range ts {
		for _, p := range t.Partitions {
			out[tp{t.TopicID, p}] = struct{}{}
		}
	}
	return out
}

func (g *Group) subsetOfAssigned(m *cmember, ts []kmsg.ConsumerGroupHeartbeatRequestTopic) bool {
	for k := range g.ownedSet(ts) {
		_, a := m.assigned[k]
		_, r := m.revoking[k]
		if !a && !r {
			return false
		}
	}
	return true
}

// removeConsumerMember drops a member (left, expired or fenced) and moves
// the group to a new epoch without it; it returns the records to write.
func (g *Group) removeConsumerMember(m *cmember) []Record {
	cg := g.cg
	cg.dropMember(m)
	delete(cg.target, m.id)
	recs := g.cgMemberTombstones(m.id)
	return append(recs, g.newTargetAssignment(g.subscriptionMeta())...)
}

// subscriptionMeta resolves the members' subscriptions (names and regexes)
// to the topics that exist now.
func (g *Group) subscriptionMeta() map[string]TopicInfo {
	out := map[string]TopicInfo{}
	cfg := g.p.cfg
	var all []TopicInfo
	for _, m := range g.cg.members {
		for _, n := range m.topics {
			if _, ok := out[n]; ok || cfg.LookupTopic == nil {
				continue
			}
			if t, ok := cfg.LookupTopic(n); ok {
				out[n] = t
			}
		}
		if m.regex != nil && cfg.ListTopics != nil {
			re, err := regexp.Compile("^(?:" + *m.regex + ")$")
			if err != nil {
				continue
			}
			if all == nil {
				all = cfg.ListTopics()
			}
			for _, t := range all {
				if re.MatchString(t.Name) {
					out[t.Name] = t
				}
			}
		}
	}
	return out
}

func sameMeta(a, b map[string]TopicInfo) bool {
	if len(a) != len(b) {
		return false
	}
	for n, t := range a {
		if b[n] != t {
			return false
		}
	}
	return true
}

// newTargetAssignment moves the group to a new epoch and computes its
// target assignment; it returns the records of both.
func (g *Group) newTargetAssignment(meta map[string]TopicInfo) []Record {
	cg := g.cg
	cg.epoch++
	cg.subMeta = meta
	recs := []Record{g.cgMetadataRecord(), g.cgPartitionMetaRecord()}
	cg.assignor = g.pickAssignor()
	var members []assignMember
	ids := make([]string, 0, len(cg.members))
	for id := range cg.members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		m := cg.members[id]
		am := assignMember{id: id, topics: map[string]bool{}}
		for _, n := range m.topics {
			if _, ok := meta[n]; ok {
				am.topics[n] = true
			}
		}
		if m.regex != nil {
			if re, err := regexp.Compile("^(?:" + *m.regex + ")$"); err == nil {
				for n := range meta {
					if re.MatchString(n) {
						am.topics[n] = true
					}
				}
			}
		}
		members = append(members, am)
	}
	target := assignors[cg.assignor](members, meta, cg.target)
	for _, id := range ids {
		if !target[id].equal(cg.target[id]) || cg.target[id] == nil {
			cg.target[id] = target[id]
			recs = append(recs, g.cgTargetMemberRecord(id))
		}
	}
	cg.assignEpoch = cg.epoch
	recs = append(recs, g.cgTargetMetaRecord())
	g.p.log.Debug("consumer group target assignment", "group", g.id, "epoch", cg.epoch, "members", len(ids), "assignor", cg.assignor)
	return recs
}

// pickAssignor is the assignor most members ask for (ties: the first by
// name), uniform when none asks.
func (g *Group) pickAssignor() string {
	votes := map[string]int{}
	for _, m := range g.cg.members {
		if m.assignor != nil {
			votes[*m.assignor]++
		}
	}
	best := AssignorUniform
	n := 0
	for name, v := range votes {
		if v > n || (v == n && name < best) {
			best, n = name, v
		}
	}
	return best
}

// tickConsumer expires members whose session ended and fences those that
// did not revoke partitions within their rebalance timeout.
func (g *Group) tickConsumer(now time.Time) {
	cg := g.cg
	var recs []Record
	for _, m := range cg.members {
		switch {
		case now.Sub(m.lastSeen) > g.p.cfg.ConsumerSession:
			g.p.log.Info("consumer group member session expired", "group", g.id, "member", m.id)
		case m.state == memberUnrevoked && m.epoch != epochLeaveStatic && now.After(m.revokeDeadline):
			g.p.log.Info("consumer group member fenced: partitions not revoked in time", "group", g.id, "member", m.id)
		default:
			continue
		}
		recs = append(recs, g.removeConsumerMember(m)...)
	}
	if len(recs) > 0 {
		g.append(context.Background(), recs)
	}
}
