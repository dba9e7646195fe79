package metadata

import (
	"cmp"
	"fmt"
	"slices"
)

// Place chooses the replicas of n new partitions with rf replicas each.
//
// The slots are every (node, shard) of brokers with at least one shard,
// ordered shard-major: shard 0 of every node by node id, then shard 1 of every
// node, and so on. Each replica goes to the least-loaded slot, ties going to
// the earliest slot, on a node the partition does not use yet. With an even
// start this is plain round-robin across nodes first, then shards; with an
// uneven start it fills the emptiest shards first. The same inputs always give
// the same answer.
//
// load counts the replicas each slot holds already (State.Load); it is not
// modified. The first replica of each partition is its preferred leader.
// The error wraps ErrNotEnoughBrokers when fewer than rf brokers have shards.
func Place(brokers []Broker, load map[Replica]int, n, rf int) ([][]Replica, error) {
	if n < 0 || rf < 1 {
		return nil, fmt.Errorf("place %d partitions with %d replicas: invalid request", n, rf)
	}
	nodes := slices.Clone(brokers)
	slices.SortFunc(nodes, func(a, b Broker) int { return cmp.Compare(a.NodeID, b.NodeID) })
	nodes = slices.DeleteFunc(nodes, func(b Broker) bool { return b.Shards < 1 })
	if len(nodes) < rf {
		return nil, fmt.Errorf("%w: replication factor %d, %d brokers", ErrNotEnoughBrokers, rf, len(nodes))
	}

	type slot struct {
		r    Replica
		load int
	}
	var slots []slot
	for shard := 0; ; shard++ {
		added := false
		for _, b := range nodes {
			if shard < b.Shards {
				r := Replica{NodeID: b.NodeID, Shard: shard}
				slots = append(slots, slot{r: r, load: load[r]})
				added = true
			}
		}
		if !added {
			break
		}
	}

	out := make([][]Replica, n)
	for p := range out {
		replicas := make([]Replica, 0, rf)
		for range rf {
			best := -1
			for i, s := range slots {
				if usesNode(replicas, s.r.NodeID) {
					continue
				}
				if best < 0 || s.load < slots[best].load {
					best = i
				}
			}
			slots[best].load++
			replicas = append(replicas, slots[best].r)
		}
		out[p] = replicas
	}
	return out, nil
}

func usesNode(replicas []Replica, node int32) bool {
	for _, r := range replicas {
		if r.NodeID == node {
			return true
		}
	}
	return false
}
