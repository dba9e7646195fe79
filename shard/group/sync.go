package group

import (
	"bytes"
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// checkMember runs the generation and member checks shared by SyncGroup,
// Heartbeat and OffsetCommit, in Kafka's order.
func (g *Group) checkMember(memberID string, instanceID *string, generation int32) (*member, int16) {
	if instanceID != nil {
		if cur, ok := g.static[*instanceID]; ok && cur != memberID {
			return nil, codeFencedInstanceID // KIP-345
		}
	}
	m := g.members[memberID]
	if m == nil {
		return nil, codeUnknownMemberID
	}
	if generation != g.generation {
		return m, codeIllegalGeneration
	}
	return m, 0
}

// Sync serves SyncGroup. The leader's request carries the assignments;
// they are written to the log before anyone gets theirs. Other members wait
// for the leader (or for the rebalance to be abandoned).
func (p *Partition) Sync(ctx context.Context, req *kmsg.SyncGroupRequest) *kmsg.SyncGroupResponse {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	if p.Closed() {
		resp.ErrorCode = codeNotCoordinator
		return resp
	}
	g := p.group(req.Group, false)
	if g == nil {
		resp.ErrorCode = codeUnknownMemberID
		return resp
	}
	ch, code, assignment := g.sync(ctx, req)
	g.mu().Unlock()
	if ch != nil {
		select {
		case r := <-ch:
			code, assignment = r.code, r.assignment
		case <-ctx.Done():
			return nil
		}
	}
	resp.ErrorCode = code
	if code == 0 {
		resp.MemberAssignment = assignment
		if req.Version >= 5 {
			pt, pn := g.protocolTypeName()
			resp.ProtocolType, resp.Protocol = &pt, &pn
		}
	}
	return resp
}

func (g *Group) protocolTypeName() (string, string) {
	g.mu().Lock()
	defer g.mu().Unlock()
	return g.protocolType, g.protocol
}

func (g *Group) sync(ctx context.Context, req *kmsg.SyncGroupRequest) (chan syncResult, int16, []byte) {
	m, code := g.checkMember(req.MemberID, req.InstanceID, req.Generation)
	if code != 0 {
		return nil, code, nil
	}
	if (req.ProtocolType != nil && *req.ProtocolType != g.protocolType) || (req.Protocol != nil && *req.Protocol != g.protocol) {
		return nil, codeInconsistentProtocol, nil
	}
	switch g.st {
	case stateEmpty:
		return nil, codeUnknownMemberID, nil
	case statePreparingRebalance:
		return nil, codeRebalanceInProgress, nil
	case stateStable:
		m.lastSeen = g.now()
		return nil, 0, m.assignment
	}
	// CompletingRebalance.
	m.lastSeen = g.now()
	ch := make(chan syncResult, 1)
	if m.syncCh != nil {
		m.syncCh <- syncResult{code: codeRebalanceInProgress}
	}
	m.syncCh = ch
	if m.id != g.leader {
		return ch, 0, nil
	}
	assigned := map[string][]byte{}
	for _, a := range req.GroupAssignment {
		assigned[a.MemberID] = bytes.Clone(a.MemberAssignment) // the request's bytes are a pooled frame's
	}
	for id, om := range g.members {
		om.assignment = assigned[id]
		if om.assignment == nil {
			om.assignment = []byte{}
		}
	}
	if code := g.append(ctx, []Record{g.metadataRecord()}); code != 0 {
		// Not durable: nobody gets an assignment, everyone rejoins.
		for _, om := range g.members {
			om.assignment = nil
			if om.syncCh != nil {
				om.syncCh <- syncResult{code: code}
				om.syncCh = nil
			}
		}
		g.prepareRebalance()
		return ch, 0, nil
	}
	g.setState(stateStable)
	for _, om := range g.members {
		if om.syncCh != nil {
			om.syncCh <- syncResult{assignment: om.assignment}
			om.syncCh = nil
		}
	}
	return ch, 0, nil
}

// Heartbeat serves Heartbeat.
func (p *Partition) Heartbeat(req *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse {
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	if p.Closed() {
		resp.ErrorCode = codeNotCoordinator
		return resp
	}
	g := p.group(req.Group, false)
	if g == nil {
		resp.ErrorCode = codeUnknownMemberID
		return resp
	}
	defer g.mu().Unlock()
	if g.st == stateEmpty {
		resp.ErrorCode = codeUnknownMemberID
		return resp
	}
	m, code := g.checkMember(req.MemberID, req.InstanceID, req.Generation)
	if code != 0 {
		resp.ErrorCode = code
		return resp
	}
	m.lastSeen = g.now()
	if g.st == statePreparingRebalance {
		resp.ErrorCode = codeRebalanceInProgress
	}
	return resp
}

// Leave serves LeaveGroup: v0-v2 name one member; v3+ a batch, each by
// member id or by group.instance.id (KIP-345).
func (p *Partition) Leave(req *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	if p.Closed() {
		resp.ErrorCode = codeNotCoordinator
		return resp
	}
	type who struct {
		id   string
		inst *string
	}
	var ws []who
	if req.Version < 3 {
		ws = []who{{id: req.MemberID}}
	} else {
		for _, m := range req.Members {
			ws = append(ws, who{m.MemberID, m.InstanceID})
		}
	}
	codes := make([]int16, len(ws))
	g := p.group(req.Group, false)
	if g == nil {
		for i := range codes {
			codes[i] = codeUnknownMemberID
		}
	} else {
		for i, w := range ws {
			id := w.id
			if w.inst != nil {
				cur, ok := g.static[*w.inst]
				switch {
				case !ok:
					codes[i] = codeUnknownMemberID
					continue
				case id != "" && cur != id:
					codes[i] = codeFencedInstanceID
					continue
				}
				id = cur
			}
			m := g.members[id]
			if m == nil {
				codes[i] = codeUnknownMemberID
				continue
			}
			p.log.Info("member left", "group", g.id, "member", id)
			g.removeMember(m, codeUnknownMemberID)
		}
		g.mu().Unlock()
	}
	if req.Version < 3 {
		resp.ErrorCode = codes[0]
		return resp
	}
	for i, w := range ws {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID, rm.ErrorCode = w.id, w.inst, codes[i]
		resp.Members = append(resp.Members, rm)
	}
	return resp
}
