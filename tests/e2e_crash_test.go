package tests

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
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
	CheckFor(t, time.Minute, func() error {
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
