package tests

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ailurus/ailurus/internal/testkit"
)

// consumedSet records which offsets of which partitions a group consumed,
// and how many times.
type consumedSet struct {
	mu   sync.Mutex
	seen map[int32]map[int64]int
	vals map[int32]map[int64]string
	n    int
}

func newConsumedSet() *consumedSet {
	return &consumedSet{seen: map[int32]map[int64]int{}, vals: map[int32]map[int64]string{}}
}

func (c *consumedSet) add(p int32, o int64, v string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[p] == nil {
		c.seen[p], c.vals[p] = map[int64]int{}, map[int64]string{}
	}
	c.seen[p][o]++
	c.vals[p][o] = v
	c.n++
}

func (c *consumedSet) distinct() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, m := range c.seen {
		n += len(m)
	}
	return n
}

// checkExactlyOnce fails t unless every produced record (want: per
// partition, the values in offset order, n in all) was consumed exactly
// once, with its value.
func (c *consumedSet) checkExactlyOnce(t *testing.T, want map[int32][]string, n int) {
	t.Helper()
	total := 0
	c.mu.Lock()
	for p, vals := range want {
		for o, v := range vals {
			switch cnt := c.seen[p][int64(o)]; {
			case cnt == 0:
				t.Errorf("partition %d offset %d (%s) never consumed", p, o, v)
			case cnt > 1:
				t.Errorf("partition %d offset %d consumed %d times", p, o, cnt)
			case c.vals[p][int64(o)] != v:
				t.Errorf("partition %d offset %d: got %q, produced %q", p, o, c.vals[p][int64(o)], v)
			}
			total++
		}
	}
	c.mu.Unlock()
	if total != n {
		t.Fatalf("produced %d records, want %d", total, n)
	}
}

// produceKeyed produces count records spread over the topic's partitions by
// key and returns, per partition, the values in offset order.
func produceKeyed(t *testing.T, cl *kgo.Client, topic string, from, count int, out map[int32][]string) {
	t.Helper()
	var rs []*kgo.Record
	for i := from; i < from+count; i++ {
		rs = append(rs, &kgo.Record{Topic: topic, Key: []byte("k" + strconv.Itoa(i)), Value: []byte("v" + strconv.Itoa(i))})
	}
	res := cl.ProduceSync(ctxT(t, time.Minute), rs...)
	if err := res.FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	for _, r := range res {
		for int64(len(out[r.Record.Partition])) <= r.Record.Offset {
			out[r.Record.Partition] = append(out[r.Record.Partition], "")
		}
		out[r.Record.Partition][r.Record.Offset] = string(r.Record.Value)
	}
}

// groupMember is one franz-go consumer of a group that processes each poll
// completely, commits it, and only then lets a rebalance happen
// (BlockRebalanceOnPoll), committing again when partitions are revoked.
type groupMember struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}
}

// startMember runs a franz-go group consumer that commits after each poll
// and on revoke; extra options are added to its client (e.g.
// kgo.ServerSideBalancer for the KIP-848 protocol).
func startMember(t *testing.T, n *Node, group, topic string, got *consumedSet, extra ...kgo.Opt) *groupMember {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(n.Kafka), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, _ map[string][]int32) {
			if err := cl.CommitUncommittedOffsets(ctx); err != nil {
				t.Logf("commit on revoke: %v", err)
			}
		})}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &groupMember{cl: cl, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				cl.AllowRebalance()
				return
			}
			fs.EachRecord(func(r *kgo.Record) { got.add(r.Partition, r.Offset, string(r.Value)) })
			if err := cl.CommitUncommittedOffsets(context.Background()); err != nil {
				t.Logf("commit: %v", err)
			}
			cl.AllowRebalance()
		}
	}()
	return m
}

// stop ends the poll loop, then leaves the group (committing on revoke).
func (m *groupMember) stop() {
	m.cancel()
	<-m.done
	m.cl.Close()
}

// TestE2EGroupFranz: three franz-go members of one group over six
// partitions (spread over two shards) join and leave while records arrive;
// every record is consumed exactly once, and the committed offsets survive a
// node restart.
func TestE2EGroupFranz(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	const topic, group = "grp-franz", "franz-group"
	createTopic(t, n, topic, 6, nil)
	prod := n.Client()
	want := map[int32][]string{}
	got := newConsumedSet()

	produceKeyed(t, prod, topic, 0, 1000, want)
	a := startMember(t, n, group, topic, got)
	testkit.CheckFor(t, 60*time.Second, func() error {
		if d := got.distinct(); d < 500 {
			return fmt.Errorf("member a consumed %d", d)
		}
		return nil
	})
	b := startMember(t, n, group, topic, got)
	c := startMember(t, n, group, topic, got)
	// The three members share the six partitions.
	testkit.CheckFor(t, 60*time.Second, func() error {
		dg, err := n.Admin().DescribeGroups(context.Background(), group)
		if err != nil {
			return err
		}
		g := dg[group]
		if g.State != "Stable" || len(g.Members) != 3 {
			return fmt.Errorf("group %s with %d members", g.State, len(g.Members))
		}
		for _, m := range g.Members {
			if ca, ok := m.Assigned.AsConsumer(); !ok || len(ca.Topics) != 1 || len(ca.Topics[0].Partitions) != 2 {
				return fmt.Errorf("member %s assigned %+v", m.MemberID, ca)
			}
		}
		return nil
	})
	produceKeyed(t, prod, topic, 1000, 1000, want)
	testkit.CheckFor(t, 60*time.Second, func() error {
		if d := got.distinct(); d < 2000 {
			return fmt.Errorf("consumed %d of 2000", d)
		}
		return nil
	})
	a.stop()
	produceKeyed(t, prod, topic, 2000, 1000, want)
	testkit.CheckFor(t, 60*time.Second, func() error {
		if d := got.distinct(); d < 3000 {
			dg, _ := n.Admin().DescribeGroups(context.Background(), group)
			return fmt.Errorf("consumed %d of 3000 (group %+v)", d, dg[group])
		}
		return nil
	})
	b.stop()
	c.stop()

	got.checkExactlyOnce(t, want, 3000)

	check := func(adm *kadm.Client) {
		t.Helper()
		offs, err := adm.FetchOffsets(ctxT(t, time.Minute), group)
		if err != nil {
			t.Fatalf("fetch offsets: %v", err)
		}
		for p, vals := range want {
			o, ok := offs.Lookup(topic, p)
			if !ok || o.Err != nil || o.At != int64(len(vals)) {
				t.Errorf("partition %d: committed %+v (ok %v), want %d", p, o, ok, len(vals))
			}
		}
		dg, err := adm.DescribeGroups(ctxT(t, time.Minute), group)
		if err != nil {
			t.Fatalf("describe: %v", err)
		}
		if g := dg[group]; g.Err != nil || g.State != "Empty" {
			t.Errorf("group after all members left: state %q err %v, want Empty\n%s", g.State, g.Err, tail(n.Logs(), 60))
		}
	}
	check(n.Admin())
	n = n.Restart()
	check(n.Admin())
}
