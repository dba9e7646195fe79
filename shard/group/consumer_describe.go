package group

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// checkConsumerCommit checks an offset commit to a KIP-848 group, with the
// group locked: a commit with no member epoch (admin tools) only while the
// group has no members, or from a transactional producer that does not name
// a member; otherwise the member must exist and commit at its current epoch
// (STALE_MEMBER_EPOCH otherwise: it rejoins or retries).
func (g *Group) checkConsumerCommit(memberID string, epoch int32, txn bool) int16 {
	if epoch < 0 && memberID == "" && (txn || len(g.cg.members) == 0) {
		return 0
	}
	m := g.cg.members[memberID]
	if m == nil {
		return codeUnknownMemberID
	}
	if epoch != m.epoch {
		return codeStaleMemberEpoch
	}
	return 0
}

// ConsumerDescribe answers ConsumerGroupDescribe for one group: epochs,
// assignor and each member's current and target assignment. A classic or
// unknown group is GROUP_ID_NOT_FOUND, as Kafka answers.
func (p *Partition) ConsumerDescribe(id string, version int16) kmsg.ConsumerGroupDescribeResponseGroup {
	rg := kmsg.NewConsumerGroupDescribeResponseGroup()
	rg.Group = id
	msg := func(s string) *string { return &s }
	switch {
	case id == "":
		rg.ErrorCode = codeInvalidGroupID
		return rg
	case p.Closed():
		rg.ErrorCode = codeNotCoordinator
		return rg
	}
	g := p.group(id, false)
	if g == nil {
		rg.ErrorCode, rg.ErrorMessage = codeGroupIDNotFound, msg("Group "+id+" not found.")
		return rg
	}
	defer g.mu().Unlock()
	if g.cg == nil {
		rg.ErrorCode, rg.ErrorMessage = codeGroupIDNotFound, msg("Group "+id+" is not a consumer group.")
		return rg
	}
	cg := g.cg
	rg.State, rg.Epoch, rg.AssignmentEpoch = cg.stateName(), cg.epoch, cg.assignEpoch
	rg.AssignorName = cg.assignor
	if rg.AssignorName == "" {
		rg.AssignorName = g.pickAssignor() // not in the records: replayed groups work it out
	}
	names := map[[16]byte]string{}
	for n, t := range cg.subMeta {
		names[t.ID] = n
	}
	toAssignment := func(ps partSet) kmsg.Assignment {
		var a kmsg.Assignment
		byTopic := ps.byTopic()
		for _, tid := range sortedIDs(byTopic) {
			a.TopicPartitions = append(a.TopicPartitions, kmsg.AssignmentTopicPartition{TopicID: tid, Topic: names[tid], Partitions: byTopic[tid]})
		}
		return a
	}
	ids := make([]string, 0, len(cg.members))
	for mid := range cg.members {
		ids = append(ids, mid)
	}
	sortStrings(ids)
	for _, mid := range ids {
		m := cg.members[mid]
		rm := kmsg.NewConsumerGroupDescribeResponseGroupMember()
		rm.MemberID, rm.InstanceID, rm.RackID, rm.MemberEpoch = m.id, m.instanceID, m.rackID, m.epoch
		rm.ClientID, rm.ClientHost = m.clientID, m.clientHost
		rm.SubscribedTopics = append([]string{}, m.topics...)
		rm.SubscribedTopicRegex = m.regex
		rm.Assignment, rm.TargetAssignment = toAssignment(m.assigned), toAssignment(cg.target[mid])
		if version >= 1 {
			rm.MemberType = 1 // a consumer-protocol member
		}
		rg.Members = append(rg.Members, rm)
	}
	return rg
}
