package group

// KIP-848 records of __consumer_offsets. kmsg has no types for them, so they
// are encoded here in Kafka's layout: the key is an int16 key version and
// non-flexible fields (int16-length strings); the value is an int16 value
// version (0) and flexible fields (compact strings and arrays, an empty
// tagged-field section after each struct). Fields are those of Kafka 3.8+
// (the State of a current assignment, no client-side assignors):
//
//	key 3 ConsumerGroupMetadata {group}: value {epoch}
//	key 4 ConsumerGroupPartitionMetadata {group}: value {topics [{id, name, partitions}]}
//	key 5 ConsumerGroupMemberMetadata {group, member}: value {instance id, rack id,
//	      client id, client host, subscribed topic names, regex, rebalance
//	      timeout ms, server assignor}
//	key 6 ConsumerGroupTargetAssignmentMetadata {group}: value {assignment epoch}
//	key 7 ConsumerGroupTargetAssignmentMember {group, member}: value {topics [{id, partitions}]}
//	key 8 ConsumerGroupCurrentMemberAssignment {group, member}: value {member epoch,
//	      previous member epoch, state, assigned [{id, partitions}], pending revocation [...]}
//
// A null value is a tombstone. The last record of a key wins.

import (
	"encoding/binary"
	"errors"
	"slices"
	"time"
)

const (
	keyConsumerGroupMetadata   = 3
	keyConsumerPartitionMeta   = 4
	keyConsumerMemberMetadata  = 5
	keyConsumerTargetMetadata  = 6
	keyConsumerTargetMember    = 7
	keyConsumerCurrentAssigned = 8
)

var errShortRecord = errors.New("short KIP-848 record")

// wbuf encodes the fields of one record.
type wbuf []byte

func (b wbuf) i8(v int8) wbuf   { return append(b, byte(v)) }
func (b wbuf) i16(v int16) wbuf { return binary.BigEndian.AppendUint16(b, uint16(v)) }
func (b wbuf) i32(v int32) wbuf { return binary.BigEndian.AppendUint32(b, uint32(v)) }
func (b wbuf) uv(v uint64) wbuf { return binary.AppendUvarint(b, v) }

// str is a non-flexible (key) string.
func (b wbuf) str(s string) wbuf { return append(b.i16(int16(len(s))), s...) }

// cstr is a compact string; cnstr a nullable one.
func (b wbuf) cstr(s string) wbuf { return append(b.uv(uint64(len(s))+1), s...) }
func (b wbuf) cnstr(s *string) wbuf {
	if s == nil {
		return b.uv(0)
	}
	return b.cstr(*s)
}
func (b wbuf) tags() wbuf { return b.uv(0) }

// parts is a compact array of {topic id, partitions} in topic id order.
func (b wbuf) parts(ps partSet) wbuf {
	byTopic := ps.byTopic()
	ids := sortedIDs(byTopic)
	b = b.uv(uint64(len(ids)) + 1)
	for _, id := range ids {
		b = append(b, id[:]...)
		b = b.uv(uint64(len(byTopic[id])) + 1)
		for _, p := range byTopic[id] {
			b = b.i32(p)
		}
		b = b.tags()
	}
	return b
}

// rbuf decodes; the first short read sets err and every later read gives
// zero values.
type rbuf struct {
	b   []byte
	err error
}

func (r *rbuf) take(n int) []byte {
	if r.err != nil || n < 0 || len(r.b) < n {
		r.err = errShortRecord
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}
func (r *rbuf) i8() int8 {
	if b := r.take(1); b != nil {
		return int8(b[0])
	}
	return 0
}
func (r *rbuf) i16() int16 {
	if b := r.take(2); b != nil {
		return int16(binary.BigEndian.Uint16(b))
	}
	return 0
}
func (r *rbuf) i32() int32 {
	if b := r.take(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}
func (r *rbuf) uv() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShortRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}
func (r *rbuf) str() string { return string(r.take(int(r.i16()))) }
func (r *rbuf) cnstr() *string {
	n := r.uv()
	if n == 0 {
		return nil
	}
	s := string(r.take(int(n - 1)))
	return &s
}
func (r *rbuf) cstr() string { return deref(r.cnstr()) }

// tags skips a tagged-field section.
func (r *rbuf) tags() {
	for n := r.uv(); n > 0 && r.err == nil; n-- {
		r.uv()
		r.take(int(r.uv()))
	}
}

// arr reads a compact array length (-1 for null).
func (r *rbuf) arr() int {
	n := r.uv()
	if n > uint64(len(r.b))+1 {
		r.err = errShortRecord
		return 0
	}
	return int(n) - 1
}

func (r *rbuf) parts() partSet {
	ps := partSet{}
	for n := r.arr(); n > 0 && r.err == nil; n-- {
		var id [16]byte
		copy(id[:], r.take(16))
		for m := r.arr(); m > 0 && r.err == nil; m-- {
			ps[tp{id, r.i32()}] = struct{}{}
		}
		r.tags()
	}
	return ps
}

func consumerKey(version int16, group string, member *string) []byte {
	b := wbuf(nil).i16(version).str(group)
	if member != nil {
		b = b.str(*member)
	}
	return b
}

func value0() wbuf { return wbuf(nil).i16(0) }

func (g *Group) cgMetadataRecord() Record {
	return Record{Key: consumerKey(keyConsumerGroupMetadata, g.id, nil), Value: value0().i32(g.cg.epoch).tags()}
}

func (g *Group) cgPartitionMetaRecord() Record {
	names := make([]string, 0, len(g.cg.subMeta))
	for n := range g.cg.subMeta {
		names = append(names, n)
	}
	slices.Sort(names)
	b := value0().uv(uint64(len(names)) + 1)
	for _, n := range names {
		t := g.cg.subMeta[n]
		b = append(b, t.ID[:]...)
		b = b.cstr(n).i32(t.Partitions).tags()
	}
	return Record{Key: consumerKey(keyConsumerPartitionMeta, g.id, nil), Value: b.tags()}
}

func (g *Group) cgMemberRecord(m *cmember) Record {
	b := value0().cnstr(m.instanceID).cnstr(m.rackID).cstr(m.clientID).cstr(m.clientHost)
	b = b.uv(uint64(len(m.topics)) + 1)
	for _, t := range m.topics {
		b = b.cstr(t)
	}
	b = b.cnstr(m.regex).i32(int32(m.rebalance / time.Millisecond)).cnstr(m.assignor)
	return Record{Key: consumerKey(keyConsumerMemberMetadata, g.id, &m.id), Value: b.tags()}
}

func (g *Group) cgTargetMetaRecord() Record {
	return Record{Key: consumerKey(keyConsumerTargetMetadata, g.id, nil), Value: value0().i32(g.cg.assignEpoch).tags()}
}

func (g *Group) cgTargetMemberRecord(id string) Record {
	return Record{Key: consumerKey(keyConsumerTargetMember, g.id, &id), Value: value0().parts(g.cg.target[id]).tags()}
}

func (g *Group) cgCurrentRecord(m *cmember) Record {
	b := value0().i32(m.epoch).i32(m.prevEpoch).i8(int8(m.state)).parts(m.assigned).parts(m.revoking)
	return Record{Key: consumerKey(keyConsumerCurrentAssigned, g.id, &m.id), Value: b.tags()}
}

// cgMemberTombstones are the records that remove a member.
func (g *Group) cgMemberTombstones(id string) []Record {
	return []Record{
		{Key: consumerKey(keyConsumerCurrentAssigned, g.id, &id)},
		{Key: consumerKey(keyConsumerTargetMember, g.id, &id)},
		{Key: consumerKey(keyConsumerMemberMetadata, g.id, &id)},
	}
}

// cgGroupTombstones are the records that delete an empty consumer group.
func (g *Group) cgGroupTombstones() []Record {
	return []Record{
		{Key: consumerKey(keyConsumerTargetMetadata, g.id, nil)},
		{Key: consumerKey(keyConsumerPartitionMeta, g.id, nil)},
		{Key: consumerKey(keyConsumerGroupMetadata, g.id, nil)},
	}
}

// loadConsumer replays one KIP-848 record (key version 3 to 8).
func (p *Partition) loadConsumer(version int16, key, value []byte) {
	kr := &rbuf{b: key[2:]}
	groupID := kr.str()
	var memberID string
	if version == keyConsumerMemberMetadata || version == keyConsumerTargetMember || version == keyConsumerCurrentAssigned {
		memberID = kr.str()
	}
	if kr.err != nil {
		return
	}
	g := p.loadGroup(groupID)
	if value == nil {
		if g.cg == nil {
			return
		}
		switch version {
		case keyConsumerGroupMetadata:
			g.cg = nil // the group was deleted
		case keyConsumerMemberMetadata, keyConsumerCurrentAssigned:
			if m := g.cg.members[memberID]; m != nil {
				g.cg.dropMember(m)
			}
		case keyConsumerTargetMember:
			delete(g.cg.target, memberID)
		}
		return
	}
	if g.cg == nil {
		g.cg = newConsumerGroup()
	}
	cg := g.cg
	r := &rbuf{b: value}
	if r.i16() != 0 {
		return // a value version this coordinator does not know
	}
	member := func() *cmember {
		m := cg.members[memberID]
		if m == nil {
			m = &cmember{id: memberID, assigned: partSet{}, revoking: partSet{}, lastSeen: p.now()}
			cg.members[memberID] = m
		}
		return m
	}
	switch version {
	case keyConsumerGroupMetadata:
		if e := r.i32(); r.err == nil {
			cg.epoch = e
		}
	case keyConsumerPartitionMeta:
		meta := map[string]TopicInfo{}
		for n := r.arr(); n > 0 && r.err == nil; n-- {
			var t TopicInfo
			copy(t.ID[:], r.take(16))
			t.Name = r.cstr()
			t.Partitions = r.i32()
			r.tags()
			meta[t.Name] = t
		}
		if r.err == nil {
			cg.subMeta = meta
		}
	case keyConsumerMemberMetadata:
		inst, rack, cid, chost := r.cnstr(), r.cnstr(), r.cstr(), r.cstr()
		var topics []string
		for n := r.arr(); n > 0 && r.err == nil; n-- {
			topics = append(topics, r.cstr())
		}
		regex, rt, assignor := r.cnstr(), r.i32(), r.cnstr()
		if r.err != nil {
			return
		}
		m := member()
		if m.instanceID != nil && cg.static[*m.instanceID] == m.id {
			delete(cg.static, *m.instanceID)
		}
		m.instanceID, m.rackID, m.clientID, m.clientHost = inst, rack, cid, chost
		m.topics, m.regex, m.assignor = topics, regex, assignor
		m.rebalance = time.Duration(rt) * time.Millisecond
		if inst != nil {
			cg.static[*inst] = m.id
		}
	case keyConsumerTargetMetadata:
		if e := r.i32(); r.err == nil {
			cg.assignEpoch = e
		}
	case keyConsumerTargetMember:
		if ps := r.parts(); r.err == nil {
			cg.target[memberID] = ps
		}
	case keyConsumerCurrentAssigned:
		epoch, prev, st := r.i32(), r.i32(), r.i8()
		assigned, revoking := r.parts(), r.parts()
		if r.err != nil {
			return
		}
		m := member()
		m.epoch, m.prevEpoch, m.state, m.assigned, m.revoking = epoch, prev, memberState(st), assigned, revoking
		if m.state == memberUnrevoked {
			m.revokeDeadline = p.now().Add(max(m.rebalance, p.cfg.ConsumerSession))
		}
	}
}
