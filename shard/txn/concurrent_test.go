package txn

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestConcurrentProducers runs producers fighting over the same ids and
// checks that only the expected codes come back and that replaying the log
// gives back exactly the in-memory state.
func TestConcurrentProducers(t *testing.T) {
	h := newHarness(t, nil)
	h.p.Start()
	allowed := map[int16]bool{0: true, kerr.ProducerFenced.Code: true, kerr.ConcurrentTransactions.Code: true,
		kerr.InvalidTxnState.Code: true}
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for i := range 6 {
		id := fmt.Sprint("id-", i%3)
		wg.Go(func() {
			for j := range 15 {
				r := h.init(id, 60000)
				if r.ErrorCode != 0 {
					if !allowed[r.ErrorCode] {
						errs <- fmt.Errorf("init: %v", kerr.ErrorForCode(r.ErrorCode))
					}
					continue
				}
				code := h.p.AddPartitions(t.Context(), h.addReq(id, r.ProducerID, r.ProducerEpoch, 3, "t", int32(j%4), int32(i)))
				c := code.Topics[0].Partitions[0].ErrorCode
				if !allowed[c] {
					errs <- fmt.Errorf("add: %v", kerr.ErrorForCode(c))
				}
				if c != 0 {
					continue
				}
				if c := h.end(id, r.ProducerID, r.ProducerEpoch, j%2 == 0); !allowed[c] {
					errs <- fmt.Errorf("end: %v", kerr.ErrorForCode(c))
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	h.p.Close()
	if n := len(h.mk.done()); n < 10 {
		t.Fatalf("only %d transactions completed", n)
	}
	t.Logf("%d marker writes, %d records", len(h.mk.done()), len(h.log.records()))

	q := h.newPartition(h.log.records())
	q.LoadDone()
	for i := range 3 {
		id := fmt.Sprint("id-", i)
		live, replayed := h.p.describeUnlocked(id), q.Describe(id)
		if live.State != replayed.State || live.ProducerID != replayed.ProducerID || live.ProducerEpoch != replayed.ProducerEpoch ||
			!slices.EqualFunc(live.Topics, replayed.Topics, func(a, b kmsg.DescribeTransactionsResponseTransactionStateTopic) bool {
				return a.Topic == b.Topic && slices.Equal(a.Partitions, b.Partitions)
			}) {
			t.Errorf("%s: live %+v, replayed %+v", id, live, replayed)
		}
	}
}

// describeUnlocked describes id even after Close (for comparisons).
func (p *Partition) describeUnlocked(id string) kmsg.DescribeTransactionsResponseTransactionState {
	p.closed.Store(false)
	defer p.closed.Store(true)
	return p.Describe(id)
}
