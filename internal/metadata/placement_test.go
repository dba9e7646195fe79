package metadata

import (
	"errors"
	"reflect"
	"testing"
)

func TestPlaceRoundRobinNodesThenShards(t *testing.T) {
	brokers := []Broker{{NodeID: 2, Shards: 2}, {NodeID: 1, Shards: 2}}
	got, err := Place(brokers, nil, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]Replica{
		{{NodeID: 1, Shard: 0}},
		{{NodeID: 2, Shard: 0}},
		{{NodeID: 1, Shard: 1}},
		{{NodeID: 2, Shard: 1}},
		{{NodeID: 1, Shard: 0}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Place = %v, want %v", got, want)
	}
}

func TestPlaceSpreadsEvenly(t *testing.T) {
	brokers := []Broker{{NodeID: 0, Shards: 4}, {NodeID: 1, Shards: 3}, {NodeID: 2, Shards: 1}}
	const slots = 8
	load := map[Replica]int{}
	// Several topics in turn, of sizes that do not divide the slot count.
	for _, n := range []int{3, 5, 1, 7, 13, 3} {
		placed, err := Place(brokers, load, n, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, rs := range placed {
			load[rs[0]]++
		}
	}
	total, lo, hi := 0, int(^uint(0)>>1), 0
	for _, b := range brokers {
		for s := range b.Shards {
			l := load[Replica{NodeID: b.NodeID, Shard: s}]
			total += l
			lo, hi = min(lo, l), max(hi, l)
		}
	}
	if len(load) != slots || total != 32 || hi-lo > 1 {
		t.Errorf("load %v: %d slots used of %d, total %d, spread %d..%d; want every slot within 1",
			load, len(load), slots, total, lo, hi)
	}
}

func TestPlaceFillsLeastLoadedFirst(t *testing.T) {
	brokers := []Broker{{NodeID: 0, Shards: 2}, {NodeID: 1, Shards: 1}}
	load := map[Replica]int{{NodeID: 0, Shard: 0}: 3, {NodeID: 1, Shard: 0}: 1}
	got, err := Place(brokers, load, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]Replica{{{NodeID: 0, Shard: 1}}, {{NodeID: 1, Shard: 0}}, {{NodeID: 0, Shard: 1}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Place = %v, want %v", got, want)
	}
	if load[Replica{NodeID: 0, Shard: 1}] != 0 {
		t.Error("Place modified the caller's load")
	}
}

func TestPlaceDeterministic(t *testing.T) {
	brokers := []Broker{{NodeID: 3, Shards: 3}, {NodeID: 1, Shards: 2}, {NodeID: 2, Shards: 4}}
	load := map[Replica]int{{NodeID: 2, Shard: 3}: 2, {NodeID: 1, Shard: 0}: 1}
	first, err := Place(brokers, load, 50, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Same inputs in another order give the same answer.
	shuffled := []Broker{brokers[2], brokers[0], brokers[1]}
	for range 10 {
		again, err := Place(shuffled, load, 50, 2)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first, again) {
			t.Fatal("Place gave a different placement for the same inputs")
		}
	}
	for i, rs := range first {
		if rs[0].NodeID == rs[1].NodeID {
			t.Errorf("partition %d has both replicas on node %d", i, rs[0].NodeID)
		}
	}
}

func TestPlaceNotEnoughBrokers(t *testing.T) {
	brokers := []Broker{{NodeID: 0, Shards: 2}, {NodeID: 1, Shards: 0}}
	if _, err := Place(brokers, nil, 1, 2); !errors.Is(err, ErrNotEnoughBrokers) {
		t.Errorf("rf 2 on one usable broker: err = %v, want ErrNotEnoughBrokers", err)
	}
	if _, err := Place(nil, nil, 1, 1); !errors.Is(err, ErrNotEnoughBrokers) {
		t.Errorf("no brokers: err = %v, want ErrNotEnoughBrokers", err)
	}
}
