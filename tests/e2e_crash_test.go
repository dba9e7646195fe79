package tests

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ailurus/ailurus/internal/testkit"
)

// TestE2EKillShardMidProduce kills -9 one shard process while producers
// write to every partition, waits for the agent to restart it, and checks
// that every record acknowledged before, during and after is readable.
func TestE2EKillShardMidProduce(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	if _, err := n.Admin().CreateTopic(ctxT(t, time.Minute), 8, 1, nil, "crash"); err != nil {
		t.Fatal(err)
	}
	cl := n.Client(kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(time.Millisecond),
		// No RecordDeliveryTimeout: kgo measures it from the record timestamp,
		// which these records set in the past; the context bounds the test.
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	var mu sync.Mutex
	acked := map[string]sent{}
	var failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	ctx := ctxT(t, 4*time.Minute)
	produce := func(from, to int) {
		for i := from; i < to; i++ {
			wg.Add(1)
			cl.Produce(ctx, makeRecord("crash", i), func(r *kgo.Record, err error) {
				defer wg.Done()
				if err != nil {
					failed.Add(1) // not acknowledged: allowed to be lost
					firstErr.CompareAndSwap(nil, err.Error())
					return
				}
				mu.Lock()
				acked[fmt.Sprintf("%d/%d", r.Partition, r.Offset)] = sent{r.Key, r.Value, r.Headers, r.Timestamp, r.Partition, r.Offset}
				mu.Unlock()
			})
		}
	}
	produce(0, 5000)
	// Kill shard 1 while the next records are in flight.
	pids := n.ShardPIDs()
	victim := pids[1]
	if victim == 0 {
		t.Fatalf("no pid for shard 1 in logs:\n%s", n.Logs())
	}
	done := make(chan struct{})
	go func() { produce(5000, 20000); close(done) }()
	time.Sleep(20 * time.Millisecond) // let some of the second wave get in flight
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatalf("kill shard: %v", err)
	}
	<-done
	wg.Wait()
	testkit.CheckFor(t, time.Minute, func() error {
		if p := n.ShardPIDs()[1]; p == victim || p == 0 {
			return fmt.Errorf("shard 1 not restarted yet")
		}
		return nil
	})
	if len(acked) < 5000 {
		t.Fatalf("only %d records acknowledged (%d failed, first error: %v)", len(acked), failed.Load(), firstErr.Load())
	}
	t.Logf("%d acknowledged, %d not acknowledged across the crash", len(acked), failed.Load())
	consumeAll(t, n, "crash", acked)
}

// TestE2EKillShardDuringCreate kills -9 a shard while it is still creating
// the partitions of a new topic (each a fresh Raft group), at several
// moments, and checks that after the restart every partition elects itself
// and takes writes, and that what was acknowledged reads back.
func TestE2EKillShardDuringCreate(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	adm := n.Admin()
	cl := n.Client(kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for i, delay := range []time.Duration{0, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond} {
		topic := fmt.Sprintf("born%d", i)
		victim := n.ShardPIDs()[1]
		if _, err := adm.CreateTopic(ctxT(t, time.Minute), 8, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
			t.Fatalf("kill shard: %v", err)
		}
		testkit.CheckFor(t, time.Minute, func() error {
			if p := n.ShardPIDs()[1]; p == victim || p == 0 {
				return fmt.Errorf("shard 1 not restarted yet")
			}
			return nil
		})
		acked := map[string]sent{}
		ctx := ctxT(t, time.Minute)
		for p := range int32(8) {
			r := makeRecord(topic, int(p))
			r.Partition = p
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatalf("%s/%d after the shard was killed %v into its creation: %v", topic, p, delay, err)
			}
			acked[fmt.Sprintf("%d/%d", r.Partition, r.Offset)] = sent{r.Key, r.Value, r.Headers, r.Timestamp, r.Partition, r.Offset}
		}
		consumeAll(t, n, topic, acked)
	}
}
