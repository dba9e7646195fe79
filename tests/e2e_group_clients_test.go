package tests

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ailurus/ailurus/internal/testkit"
)

// saramaHandler records every message of its claims and marks it, so that
// sarama commits it (auto-commit, and on revoke at the end of a session).
type saramaHandler struct{ got *consumedSet }

func (saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h saramaHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.got.add(m.Partition, m.Offset, string(m.Value))
		s.MarkMessage(m, "")
	}
	return nil
}

// TestE2EGroupSarama: three sarama consumers of one group rebalance as
// members come and go; every record is consumed (at least once).
func TestE2EGroupSarama(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	const topic, group = "grp-sarama", "sarama-group"
	createTopic(t, n, topic, 6, nil)
	prod := n.Client()
	want := map[int32][]string{}
	got := newConsumedSet()

	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Interval = 200 * time.Millisecond
	cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRoundRobin()}
	start := func() (func(), chan error) {
		cg, err := sarama.NewConsumerGroup([]string{n.Kafka}, group, cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			for ctx.Err() == nil {
				if err := cg.Consume(ctx, []string{topic}, saramaHandler{got}); err != nil && !errors.Is(err, sarama.ErrClosedConsumerGroup) {
					t.Logf("sarama consume: %v", err)
					time.Sleep(100 * time.Millisecond)
				}
			}
			errc <- cg.Close()
		}()
		return cancel, errc
	}
	waitFor := func(n int) {
		t.Helper()
		testkit.CheckFor(t, 90*time.Second, func() error {
			if d := got.distinct(); d < n {
				return fmt.Errorf("consumed %d of %d", d, n)
			}
			return nil
		})
	}
	produceKeyed(t, prod, topic, 0, 1000, want)
	stopA, errA := start()
	waitFor(1000)
	stopB, errB := start()
	stopC, errC := start()
	produceKeyed(t, prod, topic, 1000, 1000, want)
	waitFor(2000)
	stopA()
	if err := <-errA; err != nil {
		t.Errorf("close a: %v", err)
	}
	produceKeyed(t, prod, topic, 2000, 1000, want)
	waitFor(3000)
	stopB()
	stopC()
	for _, e := range []chan error{errB, errC} {
		if err := <-e; err != nil {
			t.Errorf("close: %v", err)
		}
	}
	got.mu.Lock()
	defer got.mu.Unlock()
	for p, vals := range want {
		for o, v := range vals {
			if got.vals[p][int64(o)] != v {
				t.Errorf("partition %d offset %d: got %q, produced %q", p, o, got.vals[p][int64(o)], v)
			}
		}
	}
}

// TestE2EGroupKcat: two kcat -G (librdkafka balanced consumer) processes
// in one group read a topic together; between them they read every record.
func TestE2EGroupKcat(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed: `make test` installs it (scripts/test-deps.sh)")
	}
	n := RunNode(t, NodeOptions{Shards: 2})
	const topic = "grp-kcat"
	createTopic(t, n, topic, 4, nil)
	prod := n.Client()
	var rs []*kgo.Record
	for i := 0; i < 2000; i++ {
		rs = append(rs, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("line-%d", i))})
	}
	if err := prod.ProduceSync(ctxT(t, time.Minute), rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			c := exec.CommandContext(ctx, kcat, "-b", n.Kafka, "-G", "kcat-group", "-X", "auto.offset.reset=earliest",
				"-e", "-q", "-f", "%s\n", topic)
			var stderr bytes.Buffer
			c.Stderr = &stderr
			out, err := c.Output()
			if err != nil {
				t.Errorf("kcat -G: %v\n%s", err, stderr.String())
			}
			mu.Lock()
			defer mu.Unlock()
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				if l := strings.TrimSpace(sc.Text()); l != "" {
					seen[l]++
				}
			}
		}()
	}
	wg.Wait()
	for i := 0; i < 2000; i++ {
		if seen[fmt.Sprintf("line-%d", i)] == 0 {
			t.Fatalf("line-%d never read by the group (%d distinct lines read)", i, len(seen))
		}
	}
	offs, err := n.Admin().FetchOffsets(ctxT(t, time.Minute), "kcat-group")
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
	if sum != 2000 {
		t.Errorf("kcat-group committed %d records in total, want 2000", sum)
	}
}
