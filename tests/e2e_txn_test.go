package tests

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// txnProduce runs one transaction of n records to topic and ends it.
func txnProduce(t *testing.T, cl *kgo.Client, topic string, from, n int, commit bool) {
	t.Helper()
	ctx := ctxT(t, time.Minute)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := from; i < from+n; i++ {
		if err := cl.ProduceSync(ctx, makeRecord(topic, i)).FirstErr(); err != nil {
			t.Fatalf("transactional produce: %v", err)
		}
	}
	if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		t.Fatalf("end transaction (commit %v): %v", commit, err)
	}
}

// readKeys reads topic from the start at the given isolation until want
// records arrived (or wait passes) and returns their keys.
func readKeys(t *testing.T, n *Node, topic string, isolation kgo.IsolationLevel, want int, wait time.Duration) []string {
	t.Helper()
	cl := n.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(isolation), kgo.FetchMaxWait(200*time.Millisecond))
	var keys []string
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	for len(keys) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) { keys = append(keys, string(r.Key)) })
	}
	// Anything beyond want would show up within one more short poll.
	ctx2, cancel2 := context.WithTimeout(t.Context(), time.Second)
	defer cancel2()
	cl.PollFetches(ctx2).EachRecord(func(r *kgo.Record) { keys = append(keys, string(r.Key)) })
	return keys
}

// TestE2ETxnAbortedInvisible: an aborted transaction's records are hidden
// from read_committed consumers and shown to read_uncommitted ones; a
// committed transaction's are shown to both; an open one's are held back
// from read_committed (the last stable offset) until it ends.
func TestE2ETxnAbortedInvisible(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	if _, err := n.Admin().CreateTopic(ctxT(t, time.Minute), 4, 1, nil, "tx"); err != nil {
		t.Fatal(err)
	}
	cl := n.Client(kgo.TransactionalID("tx-abort"), kgo.ProducerLinger(0),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	txnProduce(t, cl, "tx", 0, 40, false)  // aborted
	txnProduce(t, cl, "tx", 100, 40, true) // committed
	txnProduce(t, cl, "tx", 200, 40, false)

	committed := readKeys(t, n, "tx", kgo.ReadCommitted(), 40, time.Minute)
	if len(committed) != 40 {
		t.Fatalf("read_committed saw %d records, want the 40 committed", len(committed))
	}
	for _, k := range committed {
		var i int
		fmt.Sscanf(k, "key-%d", &i)
		if i < 100 || i >= 140 {
			t.Fatalf("read_committed saw %s, which was aborted", k)
		}
	}
	if all := readKeys(t, n, "tx", kgo.ReadUncommitted(), 120, time.Minute); len(all) != 120 {
		t.Fatalf("read_uncommitted saw %d records, want all 120", len(all))
	}

	// An open transaction holds read_committed back until it commits.
	ctx := ctxT(t, time.Minute)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := 300; i < 304; i++ {
		if err := cl.ProduceSync(ctx, makeRecord("tx", i)).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if got := readKeys(t, n, "tx", kgo.ReadCommitted(), 41, 3*time.Second); len(got) != 40 {
		t.Fatalf("read_committed saw %d records while a transaction is open, want 40", len(got))
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	if got := readKeys(t, n, "tx", kgo.ReadCommitted(), 44, time.Minute); len(got) != 44 {
		t.Fatalf("read_committed saw %d records after the commit, want 44", len(got))
	}

	// After a restart the aborted transactions are still hidden.
	n = n.Restart()
	if got := readKeys(t, n, "tx", kgo.ReadCommitted(), 44, time.Minute); len(got) != 44 {
		t.Fatalf("after restart read_committed saw %d records, want 44", len(got))
	}
}

// TestE2ETxnFencedProducer: a second producer with the same transactional
// id fences the first; the first's writes and commit are refused.
func TestE2ETxnFencedProducer(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	if _, err := n.Admin().CreateTopic(ctxT(t, time.Minute), 2, 1, nil, "fence"); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, time.Minute)
	old := n.Client(kgo.TransactionalID("fenced-id"), kgo.ProducerLinger(0))
	if err := old.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := old.ProduceSync(ctx, makeRecord("fence", 1)).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// The new instance's InitProducerId aborts the old one's transaction and
	// bumps the epoch.
	cur := n.Client(kgo.TransactionalID("fenced-id"), kgo.ProducerLinger(0))
	txnProduce(t, cur, "fence", 10, 3, true)

	err := old.ProduceSync(ctx, makeRecord("fence", 2)).FirstErr()
	if err == nil {
		err = old.EndTransaction(ctx, kgo.TryCommit)
	}
	if !errors.Is(err, kerr.ProducerFenced) && !errors.Is(err, kerr.InvalidProducerEpoch) && !errors.Is(err, kerr.InvalidProducerIDMapping) {
		t.Fatalf("the fenced producer got %v, want PRODUCER_FENCED or INVALID_PRODUCER_EPOCH", err)
	}
	got := readKeys(t, n, "fence", kgo.ReadCommitted(), 3, time.Minute)
	if len(got) != 3 {
		t.Fatalf("read_committed saw %v, want only the new producer's 3 records", got)
	}
}

// TestE2ETxnGroupTransactSession: a franz-go GroupTransactSession
// consume-transform-produce pipeline moves 50,000 records from one topic to
// another while a shard is killed twice; the output, read with
// read_committed, holds every input record exactly once.
func TestE2ETxnGroupTransactSession(t *testing.T) {
	const total = 50_000
	n := RunNode(t, NodeOptions{Shards: 2})
	adm := n.Admin()
	for _, topic := range []string{"eos-in", "eos-out"} {
		if _, err := adm.CreateTopic(ctxT(t, time.Minute), 6, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	in := n.Client(kgo.ProducerLinger(time.Millisecond), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if acked := produceAll(t, in, "eos-in", total); len(acked) != total {
		t.Fatalf("%d of %d input records acknowledged", len(acked), total)
	}

	sess, err := kgo.NewGroupTransactSession(kgo.SeedBrokers(n.Kafka),
		kgo.TransactionalID("eos-pipeline"), kgo.ConsumerGroup("eos-group"), kgo.ConsumeTopics("eos-in"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(), kgo.ProducerLinger(time.Millisecond), kgo.FetchMaxWait(200*time.Millisecond),
		kgo.TransactionTimeout(20*time.Second), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var commits, failures int
	pipeline := make(chan struct{})
	go func() {
		defer close(pipeline)
		for ctx.Err() == nil {
			fs := sess.PollRecords(ctx, 500) // many small transactions, so the kills land mid-pipeline
			if ctx.Err() != nil {
				return
			}
			if err := sess.Begin(); err != nil {
				t.Errorf("begin: %v", err)
				return
			}
			fs.EachRecord(func(r *kgo.Record) {
				sess.Produce(ctx, &kgo.Record{Topic: "eos-out", Key: r.Key, Value: r.Value}, nil)
			})
			ok, err := sess.End(ctx, kgo.TryCommit)
			switch {
			case err != nil:
				failures++ // aborted: the records are consumed again
			case ok:
				commits++
			}
		}
	}()

	out := n.Client(kgo.ConsumeTopics("eos-out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.FetchMaxWait(200*time.Millisecond))
	seen := map[string]int{}
	dups := 0
	killed := 0
	rctx := ctxT(t, 5*time.Minute)
	for len(seen) < total {
		fs := out.PollFetches(rctx)
		if rctx.Err() != nil {
			t.Fatalf("read %d of %d output records (%d commits, %d failed transactions, %d duplicates)", len(seen), total, commits, failures, dups)
		}
		fs.EachRecord(func(r *kgo.Record) {
			seen[string(r.Key)]++
			if seen[string(r.Key)] > 1 {
				dups++
			}
		})
		// Kill shard 1, then shard 0, once a third and two thirds are through.
		if killed < 2 && len(seen) > (killed+1)*total/3 {
			victim := n.ShardPIDs()[1-killed]
			if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed++
			t.Logf("killed shard %d at %d output records", 2-killed, len(seen))
		}
	}
	cancel()
	<-pipeline
	// Anything produced twice would have arrived by now.
	lctx, lcancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer lcancel()
	out.PollFetches(lctx).EachRecord(func(r *kgo.Record) {
		seen[string(r.Key)]++
		dups++
	})
	if dups > 0 || killed < 2 {
		t.Fatalf("%d duplicates in read_committed output (%d kills)", dups, killed)
	}
	for i := 0; i < total; i++ {
		if k := string(makeRecord("", i).Key); seen[k] != 1 {
			t.Fatalf("input %s appears %d times in the output", k, seen[k])
		}
	}
	t.Logf("%d records exactly once: %d commits, %d failed transactions", total, commits, failures)
}

// TestE2ETxnTimeoutAborts: a transaction left open past its timeout is
// aborted by the coordinator. Until then it holds read_committed readers of
// its partition back (the last stable offset), even for other producers'
// records; afterwards they see those records and none of the abandoned
// transaction's, and the abandoned producer is fenced.
func TestE2ETxnTimeoutAborts(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	if _, err := n.Admin().CreateTopic(ctxT(t, time.Minute), 1, 1, nil, "stale"); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, time.Minute)
	stale := n.Client(kgo.TransactionalID("stale-id"), kgo.TransactionTimeout(3*time.Second), kgo.ProducerLinger(0))
	if err := stale.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := stale.ProduceSync(ctx, makeRecord("stale", i)).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	plain := n.Client(kgo.ProducerLinger(0))
	for i := 100; i < 105; i++ {
		if err := plain.ProduceSync(ctx, makeRecord("stale", i)).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if got := readKeys(t, n, "stale", kgo.ReadCommitted(), 1, time.Second); len(got) != 0 {
		t.Fatalf("read_committed saw %v behind an open transaction", got)
	}
	// The coordinator aborts within its timeout plus a tick.
	got := readKeys(t, n, "stale", kgo.ReadCommitted(), 5, 30*time.Second)
	if len(got) != 5 {
		t.Fatalf("after the timeout read_committed saw %v, want the 5 plain records", got)
	}
	for _, k := range got {
		if k < "key-000100" {
			t.Fatalf("read_committed saw %s from the aborted transaction", k)
		}
	}
	err := stale.EndTransaction(ctx, kgo.TryCommit)
	if !errors.Is(err, kerr.ProducerFenced) && !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("committing the timed-out transaction: %v, want PRODUCER_FENCED or INVALID_PRODUCER_EPOCH", err)
	}
}

// TestE2ETxnSarama: sarama's transactional producer, with a consumed
// offset committed inside the transaction: a committed transaction's records
// and offset are visible, an aborted one's are not.
func TestE2ETxnSarama(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	if _, err := n.Admin().CreateTopic(ctxT(t, time.Minute), 3, 1, nil, "stx"); err != nil {
		t.Fatal(err)
	}
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Idempotent = true
	cfg.Producer.Return.Successes = true
	cfg.Producer.Transaction.ID = "sarama-txn"
	cfg.Net.MaxOpenRequests = 1
	prod, err := sarama.NewSyncProducer([]string{n.Kafka}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	send := func(from int, commit bool) {
		t.Helper()
		if err := prod.BeginTxn(); err != nil {
			t.Fatal(err)
		}
		for i := from; i < from+10; i++ {
			if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: "stx", Key: sarama.StringEncoder(fmt.Sprintf("key-%06d", i)),
				Value: sarama.StringEncoder("v")}); err != nil {
				t.Fatalf("send in transaction: %v", err)
			}
		}
		offs := map[string][]*sarama.PartitionOffsetMetadata{"stx": {{Partition: 0, Offset: int64(from + 10)}}}
		if err := prod.AddOffsetsToTxn(offs, "sarama-group"); err != nil {
			t.Fatalf("add offsets to transaction: %v", err)
		}
		if commit {
			err = prod.CommitTxn()
		} else {
			err = prod.AbortTxn()
		}
		if err != nil {
			t.Fatalf("end transaction (commit %v): %v", commit, err)
		}
	}
	send(0, true)
	send(100, false)
	got := readKeys(t, n, "stx", kgo.ReadCommitted(), 10, time.Minute)
	if len(got) != 10 {
		t.Fatalf("read_committed saw %d records, want the committed 10: %v", len(got), got)
	}
	for _, k := range got {
		if k >= "key-000100" {
			t.Fatalf("read_committed saw %s of the aborted transaction", k)
		}
	}
	offs, err := n.Admin().FetchOffsets(ctxT(t, time.Minute), "sarama-group")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup("stx", 0); !ok || o.At != 10 {
		t.Fatalf("group offset of stx/0 = %+v, want 10 from the committed transaction, not 110 from the aborted one", o)
	}
}

// TestE2ETxnDescribe: DescribeTransactions, ListTransactions and
// DescribeProducers show an open transaction as it is: its state, producer,
// partitions, and on each partition the producer with the offset its
// transaction started at; after the commit the transaction is
// CompleteCommit and no partition has an open transaction.
func TestE2ETxnDescribe(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	adm := n.Admin()
	ctx := ctxT(t, time.Minute)
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "desc"); err != nil {
		t.Fatal(err)
	}
	cl := n.Client(kgo.TransactionalID("desc-id"), kgo.ProducerLinger(0), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	plain := n.Client(kgo.ProducerLinger(0), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for i := 0; i < 3; i++ { // offsets 0-2 of partition 1, before the transaction
		r := makeRecord("desc", i)
		r.Partition = 1
		if err := plain.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 2; p++ {
		r := makeRecord("desc", 10+int(p))
		r.Partition = p
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	dt, err := adm.DescribeTransactions(ctx, "desc-id")
	if err != nil {
		t.Fatal(err)
	}
	d, ok := dt["desc-id"]
	if !ok || d.Err != nil || d.State != "Ongoing" || len(d.Topics["desc"]) != 2 || d.ProducerID < 0 {
		t.Fatalf("describe the open transaction: %+v", d)
	}
	lt, err := adm.ListTransactions(ctx, nil, []string{"Ongoing"})
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := lt["desc-id"]; !ok || l.ProducerID != d.ProducerID {
		t.Fatalf("list Ongoing transactions: %+v", lt)
	}
	starts := map[int32]int64{}
	dp, err := adm.DescribeProducers(ctx, kadm.TopicsSet{"desc": {0: {}, 1: {}}})
	if err != nil {
		t.Fatal(err)
	}
	dp.EachProducer(func(p kadm.DescribedProducer) {
		if p.ProducerID == d.ProducerID {
			starts[p.Partition] = p.CurrentTxnStartOffset
		}
	})
	if starts[0] != 0 || starts[1] != 3 {
		t.Fatalf("open transaction start offsets by partition: %v, want 0 on partition 0 and 3 on partition 1", starts)
	}

	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	dt, err = adm.DescribeTransactions(ctx, "desc-id")
	if err != nil || dt["desc-id"].State != "CompleteCommit" {
		t.Fatalf("describe after commit: %v %+v", err, dt["desc-id"])
	}
	dp, err = adm.DescribeProducers(ctx, kadm.TopicsSet{"desc": {0: {}, 1: {}}})
	if err != nil {
		t.Fatal(err)
	}
	dp.EachProducer(func(p kadm.DescribedProducer) {
		if p.ProducerID == d.ProducerID && p.CurrentTxnStartOffset != -1 {
			t.Errorf("partition %d still shows an open transaction from %d", p.Partition, p.CurrentTxnStartOffset)
		}
	})
	if dt, err := adm.DescribeTransactions(ctx, "no-such-id"); err != nil || !errors.Is(dt["no-such-id"].Err, kerr.TransactionalIDNotFound) {
		t.Fatalf("describe an unknown id: %v %+v", err, dt["no-such-id"])
	}
}
