package group

// Records of __consumer_offsets, in Kafka's own formats so that tools that
// read the topic understand them:
//
//	key v1 (OffsetCommitKey {group, topic, partition})
//	  value v3 (OffsetCommitValue {offset, leader epoch, metadata, commit time})
//	key v2 (GroupMetadataKey {group})
//	  value v3 (GroupMetadataValue {protocol type, generation, protocol,
//	  leader, state time, members with subscription and assignment})
//
// A null value is a tombstone: the offset was deleted (OffsetDelete,
// DeleteGroups), or the group was deleted. Group metadata is written when a
// generation's SyncGroup completes, which is enough to resume a stable
// group after a restart; the last record of a key wins.

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func offsetKey(group, topic string, partition int32) []byte {
	k := kmsg.OffsetCommitKey{Version: 1, Group: group, Topic: topic, Partition: partition}
	return k.AppendTo(nil)
}

func offsetValue(c committed) []byte {
	v := kmsg.NewOffsetCommitValue()
	v.Version = 3
	v.Offset, v.LeaderEpoch, v.Metadata, v.CommitTimestamp = c.offset, c.epoch, c.metadata, c.commitTime
	return v.AppendTo(nil)
}

func groupKey(group string) []byte {
	k := kmsg.GroupMetadataKey{Version: 2, Group: group}
	return k.AppendTo(nil)
}

// metadataRecord is the group's current generation, members and
// assignments. Called with the group locked.
func (g *Group) metadataRecord() Record {
	v := kmsg.NewGroupMetadataValue()
	v.Version = 3
	v.ProtocolType = g.protocolType
	v.Generation = g.generation
	pn, l := g.protocol, g.leader
	v.Protocol, v.Leader = &pn, &l
	v.CurrentStateTimestamp = g.stateSince.UnixMilli()
	for _, id := range g.order {
		m := g.members[id]
		vm := kmsg.NewGroupMetadataValueMember()
		vm.MemberID, vm.InstanceID, vm.ClientID, vm.ClientHost = m.id, m.instanceID, m.clientID, m.clientHost
		vm.RebalanceTimeoutMillis = int32(m.rebalance / time.Millisecond)
		vm.SessionTimeoutMillis = int32(m.session / time.Millisecond)
		vm.Subscription = m.metadata(g.protocol)
		vm.Assignment = m.assignment
		v.Members = append(v.Members, vm)
	}
	return Record{Key: groupKey(g.id), Value: v.AppendTo(nil)}
}

// Load replays one record of the partition, in log order. Call before
// Start; records it does not understand are skipped.
func (p *Partition) Load(key, value []byte) {
	if len(key) < 2 {
		return
	}
	switch version := int16(key[0])<<8 | int16(key[1]); version {
	case 0, 1:
		var k kmsg.OffsetCommitKey
		if k.ReadFrom(key) != nil {
			return
		}
		g := p.loadGroup(k.Group)
		if value == nil {
			if m := g.offsets[k.Topic]; m != nil {
				delete(m, k.Partition)
				if len(m) == 0 {
					delete(g.offsets, k.Topic)
				}
			}
			return
		}
		var v kmsg.OffsetCommitValue
		if v.ReadFrom(value) != nil {
			return
		}
		g.setOffset(k.Topic, k.Partition, committed{offset: v.Offset, epoch: v.LeaderEpoch, metadata: v.Metadata, commitTime: v.CommitTimestamp})
	case 2:
		var k kmsg.GroupMetadataKey
		if k.ReadFrom(key) != nil {
			return
		}
		g := p.loadGroup(k.Group)
		if value == nil {
			// The group was deleted; its offsets have their own tombstones.
			g.members, g.static, g.order = map[string]*member{}, map[string]string{}, nil
			g.generation, g.protocol, g.protocolType, g.leader = 0, "", "", ""
			g.st = stateEmpty
			return
		}
		var v kmsg.GroupMetadataValue
		if v.ReadFrom(value) != nil {
			return
		}
		g.members, g.static, g.order = map[string]*member{}, map[string]string{}, nil
		g.protocolType, g.generation = v.ProtocolType, v.Generation
		g.protocol, g.leader = deref(v.Protocol), deref(v.Leader)
		now := p.now()
		for _, vm := range v.Members {
			m := &member{id: vm.MemberID, instanceID: vm.InstanceID, clientID: vm.ClientID, clientHost: vm.ClientHost,
				session:    time.Duration(vm.SessionTimeoutMillis) * time.Millisecond,
				rebalance:  time.Duration(vm.RebalanceTimeoutMillis) * time.Millisecond,
				protocols:  []kmsg.JoinGroupRequestProtocol{{Name: g.protocol, Metadata: vm.Subscription}},
				assignment: vm.Assignment, lastSeen: now}
			g.addMember(m)
		}
		g.leader = deref(v.Leader)
		if len(g.members) > 0 {
			// Resumed as it was; members that are gone expire with their session.
			g.st = stateStable
		} else {
			g.st = stateEmpty
		}
	case keyConsumerGroupMetadata, keyConsumerPartitionMeta, keyConsumerMemberMetadata,
		keyConsumerTargetMetadata, keyConsumerTargetMember, keyConsumerCurrentAssigned:
		p.loadConsumer(version, key, value)
	}
}

func (p *Partition) loadGroup(id string) *Group {
	g := p.groups[id]
	if g == nil {
		g = p.newGroup(id)
		p.groups[id] = g
	}
	return g
}

// LoadDone drops groups that the replay left empty of everything.
func (p *Partition) LoadDone() {
	for id, g := range p.groups {
		if !g.exists() {
			delete(p.groups, id)
		}
	}
}

func (g *Group) setOffset(topic string, partition int32, c committed) {
	m := g.offsets[topic]
	if m == nil {
		m = map[int32]committed{}
		g.offsets[topic] = m
	}
	m[partition] = c
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
