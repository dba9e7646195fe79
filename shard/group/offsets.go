package group

import (
	"context"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Commit serves OffsetCommit. The answer comes once the offsets are durable
// in the group's partition.
func (p *Partition) Commit(ctx context.Context, req *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, pp := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition = pp.Partition
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	fail := func(code int16) *kmsg.OffsetCommitResponse {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				resp.Topics[i].Partitions[j].ErrorCode = code
			}
		}
		return resp
	}
	if req.Group == "" {
		return fail(codeInvalidGroupID)
	}
	if p.Closed() {
		return fail(codeNotCoordinator)
	}
	// A group unknown here that commits with no member and generation -1 is
	// a group that only stores offsets (standalone consumers, admin tools).
	simple := req.Generation < 0 && req.MemberID == ""
	g := p.group(req.Group, simple)
	if g == nil {
		return fail(codeIllegalGeneration) // Kafka: an unknown group with a generation
	}
	defer g.mu().Unlock()
	switch {
	case g.cg != nil:
		// KIP-848: GenerationIdOrMemberEpoch is the member epoch.
		if code := g.checkConsumerCommit(req.MemberID, req.Generation, false); code != 0 {
			return fail(code)
		}
	case simple && g.st == stateEmpty:
	case g.st == stateCompletingRebalance:
		return fail(codeRebalanceInProgress)
	default:
		if _, code := g.checkMember(req.MemberID, req.InstanceID, req.Generation); code != 0 {
			return fail(code)
		}
		// Commits in PreparingRebalance are accepted from the current
		// generation: consumers commit on revoke (KIP-429 cooperative, and
		// eager onPartitionsRevoked) before they rejoin.
	}
	now := g.now().UnixMilli()
	var recs []Record
	type slot struct{ t, p int }
	var slots []slot
	var vals []committed
	for i, t := range req.Topics {
		for j, pp := range t.Partitions {
			rp := &resp.Topics[i].Partitions[j]
			epoch := pp.LeaderEpoch
			if req.Version < 3 {
				epoch = -1
			}
			c, code := p.toCommit(t.Topic, pp.Partition, pp.Offset, epoch, pp.Metadata, now)
			if rp.ErrorCode = code; code != 0 {
				continue
			}
			recs = append(recs, Record{Key: offsetKey(g.id, t.Topic, pp.Partition), Value: offsetValue(c)})
			slots = append(slots, slot{i, j})
			vals = append(vals, c)
		}
	}
	if code := g.append(ctx, recs); code != 0 {
		for _, s := range slots {
			resp.Topics[s.t].Partitions[s.p].ErrorCode = code
		}
		return resp
	}
	for k, s := range slots {
		g.setOffset(req.Topics[s.t].Topic, req.Topics[s.t].Partitions[s.p].Partition, vals[k])
	}
	return resp
}

// toCommit checks one partition's offset commit and returns what is
// stored, or the error code for an unknown partition or oversized metadata.
func (p *Partition) toCommit(topic string, partition int32, offset int64, epoch int32, metadata *string, now int64) (committed, int16) {
	if p.cfg.ValidPartition != nil && !p.cfg.ValidPartition(topic, partition) {
		return committed{}, codeUnknownTopicPartition
	}
	md := deref(metadata)
	if len(md) > maxOffsetMetadata {
		return committed{}, codeMetadataTooLarge
	}
	return committed{offset: offset, epoch: epoch, metadata: md, commitTime: now}, 0
}

// serveCommittedEpoch: OffsetFetch hands out the leader epoch committed
// with each offset, which clients validate with OffsetForLeaderEpoch against
// the epoch Metadata reports (KIP-320). Metadata reports the placement epoch
// (0) while batches and OffsetForLeaderEpoch use the Raft term, so a
// franz-go consumer resuming from a committed offset is fenced
// (FENCED_LEADER_EPOCH) forever. Until Metadata reports the term, the epoch
// is stored in __consumer_offsets but answered as -1 (no validation).
const serveCommittedEpoch = false

// FetchGroup answers OffsetFetch for one group; topics nil means every
// committed offset. A group unknown here has no offsets (-1), no error.
// With requireStable (KIP-447) a partition whose offset an open transaction
// is committing answers UNSTABLE_OFFSET_COMMIT, and the client retries.
func (p *Partition) FetchGroup(group string, topics []kmsg.OffsetFetchRequestTopic, all, requireStable bool) []kmsg.OffsetFetchResponseTopic {
	var out []kmsg.OffsetFetchResponseTopic
	g := p.group(group, false)
	if g != nil {
		defer g.mu().Unlock()
	}
	part := func(topic string, pn int32) kmsg.OffsetFetchResponseTopicPartition {
		rp := kmsg.NewOffsetFetchResponseTopicPartition()
		rp.Partition, rp.Offset, rp.LeaderEpoch = pn, -1, -1
		md := ""
		rp.Metadata = &md
		if g != nil {
			if c, ok := g.offsets[topic][pn]; ok {
				rp.Offset, rp.LeaderEpoch = c.offset, c.epoch
				if !serveCommittedEpoch {
					rp.LeaderEpoch = -1
				}
				m := c.metadata
				rp.Metadata = &m
			}
			if requireStable && g.unstable(topic, pn) {
				rp.ErrorCode = kerr.UnstableOffsetCommit.Code
			}
		}
		return rp
	}
	if all {
		if g == nil {
			return nil
		}
		names := make([]string, 0, len(g.offsets))
		for t := range g.offsets {
			names = append(names, t)
		}
		sort.Strings(names)
		for _, t := range names {
			rt := kmsg.NewOffsetFetchResponseTopic()
			rt.Topic = t
			ps := make([]int32, 0, len(g.offsets[t]))
			for pn := range g.offsets[t] {
				ps = append(ps, pn)
			}
			sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
			for _, pn := range ps {
				rt.Partitions = append(rt.Partitions, part(t, pn))
			}
			out = append(out, rt)
		}
		return out
	}
	for _, t := range topics {
		rt := kmsg.NewOffsetFetchResponseTopic()
		rt.Topic = t.Topic
		for _, pn := range t.Partitions {
			rt.Partitions = append(rt.Partitions, part(t.Topic, pn))
		}
		out = append(out, rt)
	}
	return out
}

// Describe answers DescribeGroups for one group. Unknown groups get
// GROUP_ID_NOT_FOUND (what Kafka's KIP-848 coordinator answers; the old one
// said Dead with no error).
func (p *Partition) Describe(id string) kmsg.DescribeGroupsResponseGroup {
	rg := kmsg.NewDescribeGroupsResponseGroup()
	rg.Group = id
	if p.Closed() {
		rg.ErrorCode = codeNotCoordinator
		return rg
	}
	g := p.group(id, false)
	if g == nil {
		rg.ErrorCode, rg.State = codeGroupIDNotFound, stateDead.String()
		return rg
	}
	defer g.mu().Unlock()
	if !g.exists() || g.cg != nil {
		// A KIP-848 group is not a classic group: Kafka answers it as
		// unknown here (ConsumerGroupDescribe describes it).
		rg.ErrorCode, rg.State = codeGroupIDNotFound, stateDead.String()
		return rg
	}
	rg.State, rg.ProtocolType, rg.Protocol = g.st.String(), g.protocolType, g.protocol
	for _, id := range g.order {
		m := g.members[id]
		rm := kmsg.NewDescribeGroupsResponseGroupMember()
		rm.MemberID, rm.InstanceID, rm.ClientID, rm.ClientHost = m.id, m.instanceID, m.clientID, m.clientHost
		if g.st == stateStable {
			rm.ProtocolMetadata, rm.MemberAssignment = m.metadata(g.protocol), m.assignment
		}
		rg.Members = append(rg.Members, rm)
	}
	return rg
}

// List answers ListGroups for this partition's groups, keeping those whose
// state is in states and whose type ("classic" or "consumer", KIP-848) is
// in types (any, case-insensitive; all when empty).
func (p *Partition) List(states, types []string) []kmsg.ListGroupsResponseGroup {
	var out []kmsg.ListGroupsResponseGroup
	in := func(list []string, v string) bool {
		if len(list) == 0 {
			return true
		}
		for _, s := range list {
			if strings.EqualFold(s, v) {
				return true
			}
		}
		return false
	}
	for _, g := range p.list() {
		g.mu().Lock()
		if g.st != stateDead && g.exists() {
			lg := kmsg.NewListGroupsResponseGroup()
			lg.Group, lg.ProtocolType, lg.GroupState, lg.GroupType = g.id, g.protocolType, g.st.String(), "classic"
			if g.cg != nil {
				lg.ProtocolType, lg.GroupState, lg.GroupType = "consumer", g.cg.stateName(), "consumer"
			}
			if in(states, lg.GroupState) && in(types, lg.GroupType) {
				out = append(out, lg)
			}
		}
		g.mu().Unlock()
	}
	return out
}

// Delete deletes one group: only an empty one, with a tombstone for its
// metadata and for each of its offsets.
func (p *Partition) Delete(ctx context.Context, id string) int16 {
	if p.Closed() {
		return codeNotCoordinator
	}
	g := p.group(id, false)
	if g == nil {
		return codeGroupIDNotFound
	}
	defer g.mu().Unlock()
	if !g.exists() {
		return codeGroupIDNotFound
	}
	if g.st != stateEmpty || (g.cg != nil && len(g.cg.members) > 0) {
		return codeNonEmptyGroup
	}
	recs := g.groupTombstones()
	for t, ps := range g.offsets {
		for pn := range ps {
			recs = append(recs, Record{Key: offsetKey(g.id, t, pn)})
		}
	}
	if code := g.append(ctx, recs); code != 0 {
		return code
	}
	g.st = stateDead
	p.remove(g)
	return 0
}

// groupTombstones are the records that delete the group itself (its
// offsets have their own).
func (g *Group) groupTombstones() []Record {
	recs := []Record{{Key: groupKey(g.id)}}
	if g.cg != nil {
		recs = append(recs, g.cgGroupTombstones()...)
	}
	return recs
}

// DeleteOffsets serves OffsetDelete: it refuses partitions of topics the
// active consumer group is subscribed to.
func (p *Partition) DeleteOffsets(ctx context.Context, req *kmsg.OffsetDeleteRequest) *kmsg.OffsetDeleteResponse {
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	if p.Closed() {
		resp.ErrorCode = codeNotCoordinator
		return resp
	}
	g := p.group(req.Group, false)
	if g == nil {
		resp.ErrorCode = codeGroupIDNotFound
		return resp
	}
	defer g.mu().Unlock()
	if !g.exists() {
		resp.ErrorCode = codeGroupIDNotFound
		return resp
	}
	subscribed := map[string]bool{}
	if g.cg != nil {
		for n := range g.cg.subMeta {
			subscribed[n] = len(g.cg.members) > 0
		}
	} else if g.st != stateEmpty {
		if g.protocolType != "consumer" {
			resp.ErrorCode = codeNonEmptyGroup
			return resp
		}
		for _, m := range g.members {
			var md kmsg.ConsumerMemberMetadata
			if md.ReadFrom(m.metadata(g.protocol)) == nil {
				for _, t := range md.Topics {
					subscribed[t] = true
				}
			}
		}
	}
	var recs []Record
	type slot struct{ t, p int }
	var slots []slot
	for i, t := range req.Topics {
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		for _, pp := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition = pp.Partition
			if subscribed[t.Topic] {
				rp.ErrorCode = codeSubscribedToTopic
			} else if _, ok := g.offsets[t.Topic][pp.Partition]; ok {
				recs = append(recs, Record{Key: offsetKey(g.id, t.Topic, pp.Partition)})
				slots = append(slots, slot{i, len(rt.Partitions)})
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if code := g.append(ctx, recs); code != 0 {
		resp.ErrorCode = code
		return resp
	}
	for _, s := range slots {
		t := resp.Topics[s.t].Topic
		pn := resp.Topics[s.t].Partitions[s.p].Partition
		delete(g.offsets[t], pn)
		if len(g.offsets[t]) == 0 {
			delete(g.offsets, t)
		}
	}
	return resp
}

// Partitioner maps a group to its __consumer_offsets partition as Kafka
// does: abs(groupId.hashCode()) % partitions, with Java's String.hashCode
// over UTF-16 code units and Kafka's Utils.abs (MinInt32 maps to 0).
func Partitioner(group string, partitions int32) int32 {
	var h int32
	for _, r := range group {
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10))
			h = 31*h + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + int32(r)
	}
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % partitions
}
