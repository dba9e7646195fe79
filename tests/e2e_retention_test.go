package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ailurus/ailurus/internal/testkit"
)

// TestE2ERetention: a topic with small segments and retention.bytes loses
// its oldest segments to the shards' housekeeping, the log start offset moves
// up, and what remains reads back.
func TestE2ERetention(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "ailurus.yaml")
	os.WriteFile(cfg, []byte("cluster:\n  log_compaction_interval_ms: 200\n"), 0o644)
	n := RunNode(t, NodeOptions{Shards: 2, Args: []string{"--config", cfg}})
	ctx := ctxT(t, 2*time.Minute)
	seg, ret := "65536", "200000"
	if _, err := n.Admin().CreateTopic(ctx, 2, 1, map[string]*string{"segment.bytes": &seg, "retention.bytes": &ret}, "ret"); err != nil {
		t.Fatal(err)
	}
	cl := n.Client(kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ProducerLinger(0),
		kgo.ProducerBatchCompression(kgo.NoCompression())) // sizes as written: these values compress to nothing
	for i := 0; i < 3000; i++ {
		r := &kgo.Record{Topic: "ret", Value: []byte(fmt.Sprintf("%0500d", i))}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	var starts kadm.ListedOffsets
	defer func() {
		if t.Failed() {
			files, _ := filepath.Glob(filepath.Join(n.DataDir, "kafka", "ret", "*", "*"))
			for _, f := range files {
				st, _ := os.Stat(f)
				t.Logf("%s %d", f, st.Size())
			}
		}
	}()
	testkit.CheckFor(t, time.Minute, func() error {
		var err error
		if starts, err = n.Admin().ListStartOffsets(ctx, "ret"); err != nil {
			return err
		}
		var bad error
		starts.Each(func(o kadm.ListedOffset) {
			if o.Offset == 0 {
				bad = fmt.Errorf("partition %d still starts at 0", o.Partition)
			}
		})
		return bad
	})
	// Reading from the start gets the retained records only, from the new
	// start offsets on.
	c := n.Client(kgo.ConsumeTopics("ret"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := 0
	for got < 100 {
		fs := c.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d retained records", got)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if s, ok := starts.Lookup("ret", r.Partition); ok && r.Offset < s.Offset {
				t.Fatalf("read offset %d below start %d", r.Offset, s.Offset)
			}
			got++
		})
	}
}
