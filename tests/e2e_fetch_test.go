package tests

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/ailurus/ailurus/internal/testkit"
)

// TestE2EFetchOtherShardsFiles reads partitions of both shards through one
// connection: the shard holding it sends the other shard's records from
// that shard's segment files (no copy over the forward socket) once a read
// is big enough. Every record must come back whole and in order, for a
// flexible Fetch (v13) and for an older one (v11, which is forwarded as
// v12 to carry the file references), and the node's metrics must show the
// bytes went by file.
func TestE2EFetchOtherShardsFiles(t *testing.T) {
	n := RunNode(t, NodeOptions{})
	ctx := ctxT(t, 3*time.Minute)
	const topic, parts, perPart, size = "refs", 4, 1500, 1000
	if _, err := n.Admin().CreateTopic(ctx, parts, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	value := func(p int32, i int) []byte { return partitionValue(p, int64(i), size) }
	pr := n.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	var recs []*kgo.Record
	for p := range int32(parts) {
		for i := range perPart {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: value(p, i)})
		}
	}
	if err := pr.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	metric := func() float64 {
		_, m := httpDo(t, "GET", n.AdminURL+"/metrics", "")
		return sumMetric(m, "ailurus_kafka_fetch_cross_shard_bytes_total", `how="file"`)
	}
	for _, fetchVersion := range []int16{13, 11} {
		before := metric()
		v := kversion.Stable()
		v.SetMaxKeyVersion(int16(kmsg.Fetch), fetchVersion)
		cl := n.Client(
			kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.FetchMaxPartitionBytes(256<<10), kgo.MaxVersions(v),
		)
		next := map[int32]int{}
		got := 0
		for got < parts*perPart {
			fs := cl.PollFetches(ctx)
			if err := ctx.Err(); err != nil {
				t.Fatalf("fetch v%d: read %d of %d records: %v", fetchVersion, got, parts*perPart, err)
			}
			fs.EachError(func(_ string, p int32, err error) { t.Fatalf("fetch v%d partition %d: %v", fetchVersion, p, err) })
			fs.EachRecord(func(r *kgo.Record) {
				i := next[r.Partition]
				if r.Offset != int64(i) || !bytes.Equal(r.Value, value(r.Partition, i)) {
					t.Fatalf("fetch v%d partition %d: record at offset %d is %.12q, want offset %d %.12q",
						fetchVersion, r.Partition, r.Offset, r.Value, i, value(r.Partition, i))
				}
				next[r.Partition]++
				got++
			})
		}
		cl.Close()
		// Half the partitions live on the other shard: about half the bytes,
		// less the small reads copied, went by file.
		testkit.CheckFor(t, time.Minute, func() error {
			_, m := httpDo(t, "GET", n.AdminURL+"/metrics", "")
			if sumMetric(m, "ailurus_shard_forwarded_requests_total", `api="Fetch"`) < 1 {
				return fmt.Errorf("fetch v%d: no forwarded Fetch counted", fetchVersion)
			}
			if d := metric() - before; d < float64(parts*perPart*size)/8 {
				_, m := httpDo(t, "GET", n.AdminURL+"/metrics", "")
				return fmt.Errorf("fetch v%d: %.0f bytes sent from the other shard's files, %.0f copied", fetchVersion, d,
					sumMetric(m, "ailurus_kafka_fetch_cross_shard_bytes_total", `how="copy"`))
			}
			return nil
		})
	}
}

// TestE2EFetchOtherShardsUnderRetention reads partitions of both shards
// while producers fill them and retention removes their oldest segments
// every 200 ms: a segment named to the reading shard may be gone by the
// time it opens it. The consumer must see only whole, valid records in
// offset order (franz-go checks every batch's CRC), never an error other
// than an offset retention already removed.
func TestE2EFetchOtherShardsUnderRetention(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "ailurus.yaml")
	if err := os.WriteFile(cfg, []byte("cluster:\n  log_compaction_interval_ms: 200\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n := RunNode(t, NodeOptions{Args: []string{"--config", cfg}})
	ctx := ctxT(t, 3*time.Minute)
	const topic, parts, size = "churn", 4, 1000
	seg, ret := "131072", "393216"
	if _, err := n.Admin().CreateTopic(ctx, parts, 1, map[string]*string{"segment.bytes": &seg, "retention.bytes": &ret}, topic); err != nil {
		t.Fatal(err)
	}
	value := func(p int32, i int64) []byte { return partitionValue(p, i, size) }
	pr := n.Client(kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	before := func() float64 {
		_, m := httpDo(t, "GET", n.AdminURL+"/metrics", "")
		return sumMetric(m, "ailurus_kafka_fetch_cross_shard_bytes_total", `how="file"`)
	}()

	stop := make(chan struct{})
	produced := make(chan error, 1)
	go func() {
		var seq [parts]int64
		for {
			select {
			case <-stop:
				produced <- nil
				return
			default:
			}
			var recs []*kgo.Record
			for p := range int32(parts) {
				for range 50 {
					recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: value(p, seq[p])})
					seq[p]++
				}
			}
			if err := pr.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				produced <- err
				return
			}
		}
	}()

	cl := n.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxPartitionBytes(256<<10))
	defer cl.Close()
	last := map[int32]int64{}
	var got int
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatal(err)
		}
		fs.EachError(func(_ string, p int32, err error) {
			if !errors.Is(err, kerr.OffsetOutOfRange) {
				t.Fatalf("partition %d: %v", p, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			if prev, ok := last[r.Partition]; ok && r.Offset <= prev {
				t.Fatalf("partition %d: offset %d after %d", r.Partition, r.Offset, prev)
			}
			last[r.Partition] = r.Offset
			var i int64
			if _, err := fmt.Sscanf(string(r.Value), "p%d-%d:", new(int32), &i); err != nil || !bytes.Equal(r.Value, value(r.Partition, i)) {
				t.Fatalf("partition %d offset %d: damaged value %.20q", r.Partition, r.Offset, r.Value)
			}
			got++
		})
	}
	close(stop)
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	if got == 0 {
		t.Fatal("nothing read")
	}
	testkit.CheckFor(t, time.Minute, func() error {
		_, m := httpDo(t, "GET", n.AdminURL+"/metrics", "")
		if d := sumMetric(m, "ailurus_kafka_fetch_cross_shard_bytes_total", `how="file"`) - before; d <= 0 {
			return fmt.Errorf("no bytes sent from the other shard's files (read %d records)", got)
		}
		return nil
	})
	starts, err := n.Admin().ListStartOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	starts.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			moved++
		}
	})
	if moved == 0 {
		t.Fatalf("retention removed nothing while reading (read %d records)", got)
	}
	t.Logf("read %d records; %d of %d partitions' starts moved by retention", got, moved, parts)
}

// partitionValue is record i of partition p, size bytes: "p<p>-<i>:" then
// one letter per partition, so a record read from the wrong place or
// damaged does not match.
func partitionValue(p int32, i int64, size int) []byte {
	v := bytes.Repeat([]byte{byte('a' + p)}, size)
	copy(v, fmt.Sprintf("p%d-%09d:", p, i))
	return v
}
