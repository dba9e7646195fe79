package tests

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
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
	value := func(p int32, i int) []byte {
		v := bytes.Repeat([]byte{byte('a' + p)}, size)
		copy(v, fmt.Sprintf("p%d-%06d:", p, i))
		return v
	}
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
		CheckFor(t, time.Minute, func() error {
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
