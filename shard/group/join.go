package group

import (
	"bytes"
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Join serves JoinGroup (all versions). It blocks until the rebalance
// completes, the member is removed, or ctx ends (nil then: the connection
// is gone).
func (p *Partition) Join(ctx context.Context, req *kmsg.JoinGroupRequest, clientID, clientHost string) *kmsg.JoinGroupResponse {
	v := req.Version
	if req.Group == "" {
		return joinError(v, codeInvalidGroupID, req.MemberID)
	}
	session := time.Duration(req.SessionTimeoutMillis) * time.Millisecond
	rebalance := session
	if v >= 1 {
		rebalance = time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond
	}
	if session < p.cfg.MinSession || session > p.cfg.MaxSession {
		return joinError(v, codeInvalidSessionTimeout, req.MemberID)
	}
	if req.ProtocolType == "" || len(req.Protocols) == 0 {
		return joinError(v, codeInconsistentProtocol, req.MemberID)
	}
	if p.Closed() {
		return joinError(v, codeNotCoordinator, req.MemberID)
	}
	g := p.group(req.Group, req.MemberID == "")
	if g == nil {
		return joinError(v, codeUnknownMemberID, req.MemberID)
	}
	if g.cg != nil {
		// A KIP-848 group: classic members may not join it (no online
		// migration); an empty one becomes a classic group again.
		code := codeInconsistentProtocol
		if len(g.cg.members) == 0 {
			if code = g.append(ctx, g.cgGroupTombstones()); code == 0 {
				g.cg = nil
			}
		}
		if code != 0 {
			g.mu().Unlock()
			return joinError(v, code, req.MemberID)
		}
	}
	ch, resp := g.join(req, session, rebalance, clientID, clientHost)
	g.mu().Unlock()
	if resp != nil {
		return resp
	}
	select {
	case r := <-ch:
		return r
	case <-ctx.Done():
		return nil
	}
}

// join runs with the group locked. It answers at once (resp) or hands back
// the channel the answer will come on.
func (g *Group) join(req *kmsg.JoinGroupRequest, session, rebalance time.Duration, clientID, clientHost string) (chan *kmsg.JoinGroupResponse, *kmsg.JoinGroupResponse) {
	v := req.Version
	now := g.now()
	self := req.MemberID
	if !g.compatible(req.ProtocolType, req.Protocols, self) {
		return nil, joinError(v, codeInconsistentProtocol, req.MemberID)
	}
	if len(g.members) == 0 || (len(g.members) == 1 && g.members[self] != nil) {
		g.protocolType = req.ProtocolType
	}
	fresh := func(id string) *member {
		return &member{id: id, instanceID: req.InstanceID, clientID: clientID, clientHost: clientHost,
			protocols: ownProtocols(req.Protocols), session: session, rebalance: rebalance, lastSeen: now}
	}
	await := func(m *member) (chan *kmsg.JoinGroupResponse, *kmsg.JoinGroupResponse) {
		if m.joinCh != nil {
			// A second JoinGroup while the first waits: the first is superseded.
			m.joinCh <- joinError(m.joinVersion, codeRebalanceInProgress, m.id)
		}
		ch := make(chan *kmsg.JoinGroupResponse, 1)
		m.joinCh, m.joinVersion = ch, v
		if g.st != statePreparingRebalance {
			g.prepareRebalance()
		}
		g.maybeCompleteJoin()
		return ch, nil
	}

	if req.MemberID == "" {
		id := newMemberID(clientID)
		if req.InstanceID != nil {
			if old := g.members[g.static[*req.InstanceID]]; old != nil {
				// KIP-345: a static member restarting rejoins with an empty
				// member id under its group.instance.id: it takes the old
				// member's place (and assignment), and the old id is fenced.
				// Unlike Kafka we rebalance on every replacement.
				m := fresh(id)
				m.assignment = old.assignment
				if old.joinCh != nil {
					old.joinCh <- joinError(old.joinVersion, codeFencedInstanceID, old.id)
					old.joinCh = nil
				}
				if old.syncCh != nil {
					old.syncCh <- syncResult{code: codeFencedInstanceID}
					old.syncCh = nil
				}
				delete(g.members, old.id)
				for i, oid := range g.order {
					if oid == old.id {
						g.order[i] = id
					}
				}
				g.members[id] = m
				g.static[*req.InstanceID] = id
				if g.leader == old.id {
					g.leader = id
				}
				return await(m)
			}
			m := fresh(id)
			g.addMember(m)
			return await(m)
		}
		if v >= 4 {
			// KIP-394: the member must come back with this id, so that a
			// client that times out on its first JoinGroup does not leave a
			// ghost member behind.
			g.pending[id] = now.Add(session)
			return nil, joinError(v, codeMemberIDRequired, id)
		}
		m := fresh(id)
		g.addMember(m)
		return await(m)
	}

	if _, ok := g.pending[req.MemberID]; ok {
		delete(g.pending, req.MemberID)
		m := fresh(req.MemberID)
		g.addMember(m)
		return await(m)
	}
	m := g.members[req.MemberID]
	if req.InstanceID != nil {
		if cur, ok := g.static[*req.InstanceID]; ok && cur != req.MemberID {
			return nil, joinError(v, codeFencedInstanceID, req.MemberID) // KIP-345
		}
	}
	if m == nil {
		return nil, joinError(v, codeUnknownMemberID, req.MemberID)
	}
	changed := !sameProtocols(m.protocols, req.Protocols)
	m.protocols, m.session, m.rebalance, m.lastSeen = ownProtocols(req.Protocols), session, rebalance, now
	m.clientID, m.clientHost = clientID, clientHost
	switch g.st {
	case stateCompletingRebalance:
		if !changed {
			// The JoinGroup answer was lost: answer it again.
			return nil, g.joinResponse(m, v)
		}
	case stateStable:
		if !changed && m.id != g.leader {
			return nil, g.joinResponse(m, v)
		}
	}
	return await(m)
}

// ownProtocols copies a request's protocols: the decoded request's byte
// slices point into the connection's pooled frame buffer, reused for later
// requests once this one is answered, and a member keeps its protocols for
// the life of the group.
func ownProtocols(ps []kmsg.JoinGroupRequestProtocol) []kmsg.JoinGroupRequestProtocol {
	out := make([]kmsg.JoinGroupRequestProtocol, len(ps))
	for i, p := range ps {
		p.Metadata = bytes.Clone(p.Metadata)
		out[i] = p
	}
	return out
}
