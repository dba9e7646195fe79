package group

// Server-side assignors of KIP-848 groups. ConsumerGroupHeartbeat's
// ServerAssignor picks one; the group uses the one most of its members ask
// for (ties: by name), "uniform" when none asks.

import (
	"slices"
	"sort"
)

// Assignor names, as Kafka's.
const (
	AssignorUniform = "uniform"
	AssignorRange   = "range"
)

// assignors maps a name to its function; unknown names are refused with
// UNSUPPORTED_ASSIGNOR.
var assignors = map[string]func(members []assignMember, topics map[string]TopicInfo, prev map[string]partSet) map[string]partSet{
	AssignorUniform: assignUniform,
	AssignorRange:   assignRange,
}

// assignMember is a member as an assignor sees it: its id and the
// subscribed topics that exist.
type assignMember struct {
	id     string
	topics map[string]bool
}

// assignRange gives each topic's partitions to its subscribers in
// contiguous ranges, in member id order, the first ones one more when the
// partitions do not divide evenly.
func assignRange(members []assignMember, topics map[string]TopicInfo, _ map[string]partSet) map[string]partSet {
	out := map[string]partSet{}
	for _, m := range members {
		out[m.id] = partSet{}
	}
	for _, name := range sortedNames(topics) {
		t := topics[name]
		var subs []string
		for _, m := range members {
			if m.topics[name] {
				subs = append(subs, m.id)
			}
		}
		if len(subs) == 0 {
			continue
		}
		per, extra := int(t.Partitions)/len(subs), int(t.Partitions)%len(subs)
		next := int32(0)
		for i, id := range subs {
			n := per
			if i < extra {
				n++
			}
			for ; n > 0; n-- {
				out[id][tp{t.ID, next}] = struct{}{}
				next++
			}
		}
	}
	return out
}

// assignUniform spreads every subscribed partition evenly over the members
// subscribed to its topic, keeping partitions where the previous target
// put them as far as balance allows (sticky), so that a rebalance moves
// few partitions.
func assignUniform(members []assignMember, topics map[string]TopicInfo, prev map[string]partSet) map[string]partSet {
	out := map[string]partSet{}
	count := map[string]int{}
	for _, m := range members {
		out[m.id] = partSet{}
	}
	type part struct {
		tp
		topic string
	}
	var all []part
	eligible := map[string][]string{} // topic -> subscribed member ids, sorted
	for _, name := range sortedNames(topics) {
		t := topics[name]
		for _, m := range members {
			if m.topics[name] {
				eligible[name] = append(eligible[name], m.id)
			}
		}
		if len(eligible[name]) == 0 {
			continue
		}
		for p := int32(0); p < t.Partitions; p++ {
			all = append(all, part{tp{t.ID, p}, name})
		}
	}
	subscribers := 0
	for _, m := range members {
		if len(m.topics) > 0 {
			subscribers++
		}
	}
	if len(all) == 0 || subscribers == 0 {
		return out
	}
	capacity := (len(all) + subscribers - 1) / subscribers
	owner := map[tp]string{}
	byTopicID := map[[16]byte]string{}
	for _, p := range all {
		byTopicID[p.id] = p.topic
	}
	// Sticky: keep previous partitions up to the even share.
	for _, m := range members {
		ps := make([]tp, 0, len(prev[m.id]))
		for k := range prev[m.id] {
			ps = append(ps, k)
		}
		sortTPs(ps)
		for _, k := range ps {
			name, ok := byTopicID[k.id]
			if !ok || !m.topics[name] || k.p >= topics[name].Partitions || count[m.id] >= capacity {
				continue
			}
			if _, taken := owner[k]; taken {
				continue
			}
			owner[k] = m.id
			out[m.id][k] = struct{}{}
			count[m.id]++
		}
	}
	least := func(ids []string) string {
		best := ids[0]
		for _, id := range ids[1:] {
			if count[id] < count[best] {
				best = id
			}
		}
		return best
	}
	for _, p := range all {
		if _, ok := owner[p.tp]; ok {
			continue
		}
		id := least(eligible[p.topic])
		owner[p.tp] = id
		out[id][p.tp] = struct{}{}
		count[id]++
	}
	// Balance: move a partition to an eligible member holding at least two
	// fewer, until none can move (each move lowers the sum of squares).
	for moved := true; moved; {
		moved = false
		for _, p := range all {
			from := owner[p.tp]
			to := least(eligible[p.topic])
			if count[to] < count[from]-1 {
				delete(out[from], p.tp)
				out[to][p.tp] = struct{}{}
				owner[p.tp] = to
				count[from]--
				count[to]++
				moved = true
			}
		}
	}
	return out
}

func sortedNames(topics map[string]TopicInfo) []string {
	names := make([]string, 0, len(topics))
	for n := range topics {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func sortTPs(ps []tp) {
	slices.SortFunc(ps, func(a, b tp) int {
		for i := range a.id {
			if a.id[i] != b.id[i] {
				return int(a.id[i]) - int(b.id[i])
			}
		}
		return int(a.p - b.p)
	})
}

func sortStrings(s []string) { sort.Strings(s) }
