package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/cli/bench"
)

func TestMedian(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("odd: %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("even: %v", m)
	}
}

func TestProcStatOfSelf(t *testing.T) {
	pid := os.Getpid()
	if tr := tree(pid); len(tr) == 0 || tr[0] != pid {
		t.Fatalf("tree(%d) = %v", pid, tr)
	}
	// Spin until the kernel has charged at least one clock tick.
	x, deadline := 0, time.Now().Add(5*time.Second)
	for cpuSeconds(pid) <= 0 && time.Now().Before(deadline) {
		for i := range 1_000_000 {
			x += i
		}
	}
	if cpuSeconds(pid) <= 0 {
		t.Errorf("no CPU time read for this busy process (%d)", x)
	}
	if peakRSS(pid) < 1<<20 {
		t.Errorf("peak RSS %d B: too small to be right", peakRSS(pid))
	}
}

func TestChecksPassAndFail(t *testing.T) {
	rep := func(rps, p99 float64, bytes int64) sample {
		s := sample{cpu: 1}
		s.rep = newReport(rps, p99, bytes)
		return s
	}
	r := newResults()
	r.add("D1", sysDisk, sample{rep: newReport(0, 1, 0)})
	r.add("T1", sysAilurus, rep(200, 1, 100e6))
	r.add("T1", sysKfake, rep(100, 1, 100e6))
	r.add("L1", sysAilurus, rep(5000, 4, 0))
	for _, c := range checks() {
		v, ok := c.ratio(r, 0)
		switch c.name {
		case "T1 records/s vs kfake-mem":
			if !ok || v != 2 {
				t.Errorf("%s = %v %v, want 2", c.name, v, ok)
			}
		case "L1 produce p99 vs raw 4KiB fdatasync p99 (D1)":
			if !ok || v != 4 {
				t.Errorf("%s = %v %v, want 4", c.name, v, ok)
			}
		case "T2 records/s vs kfake-mem":
			if ok {
				t.Errorf("%s computed without samples", c.name)
			}
		}
	}
}

func newReport(rps, p99 float64, bytes int64) *bench.Report {
	return &bench.Report{RecordsPerSec: rps, Bytes: bytes, Produce: bench.Latency{P99: p99}}
}

func TestProcField(t *testing.T) {
	io := "rchar: 100\nwchar: 200\nsyscr: 3\nsyscw: 4\nread_bytes: 4096\nwrite_bytes: 1052672\ncancelled_write_bytes: 0\n"
	if got := procField(io, "write_bytes:"); got != 1052672 {
		t.Errorf("write_bytes = %d", got)
	}
	if got := procField(io, "cancelled_write_bytes:"); got != 0 {
		t.Errorf("cancelled_write_bytes = %d", got)
	}
	status := "Name:\tx\nVmHWM:\t  123456 kB\nVmRSS:\t   65432 kB\n"
	if got := procField(status, "VmRSS:"); got != 65432 {
		t.Errorf("VmRSS = %d", got)
	}
	if got := procField(status, "VmSwap:"); got != 0 {
		t.Errorf("missing key = %d", got)
	}
	if rss := currentRSS(os.Getpid()); rss < 1<<20 || rss > peakRSS(os.Getpid()) {
		t.Errorf("current RSS %d B, peak %d B", rss, peakRSS(os.Getpid()))
	}
	if n := openFDs(os.Getpid()); n < 3 {
		t.Errorf("%d open fds: stdin, stdout and stderr at least", n)
	}
}

// batch encodes a v2 record batch header at offset base holding n records,
// with body bytes of records.
func batch(base int64, n int32, body int) []byte {
	b := kmsg.RecordBatch{FirstOffset: base, Magic: 2, LastOffsetDelta: n - 1, NumRecords: n, Records: make([]byte, body)}
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:12], uint32(len(out)-12))
	return out
}

func TestWalkBatches(t *testing.T) {
	a, b := batch(10, 4, 100), batch(14, 2, 50)
	buf := append(append(append([]byte{}, a...), b...), batch(16, 3, 80)[:70]...) // a partial third batch
	next, n, recs := walkBatches(buf)
	if next != 16 || n != int64(len(a)+len(b)) || recs != 6 {
		t.Errorf("walkBatches = next %d, %d bytes, %d records; want 16, %d, 6", next, n, recs, len(a)+len(b))
	}
	if next, n, recs := walkBatches(nil); next != 0 || n != 0 || recs != 0 {
		t.Errorf("empty: %d %d %d", next, n, recs)
	}
}

// TestReadFetchStream reads a Fetch v11 response as a stream and finds
// what walkBatches finds in each partition's records, including aborted
// transactions to skip, a trailing partial batch and a partition error; a
// frame cut short is an error.
func TestReadFetchStream(t *testing.T) {
	a, b := batch(10, 4, 100), batch(14, 2, 50)
	recs0 := append(append(append([]byte{}, a...), b...), batch(16, 3, 80)[:70]...)
	resp := kmsg.NewPtrFetchResponse()
	resp.SetVersion(c1FetchVersion)
	rt := kmsg.NewFetchResponseTopic()
	rt.Topic = c1Topic
	p0 := kmsg.NewFetchResponseTopicPartition()
	p0.Partition, p0.RecordBatches = 0, recs0
	p0.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{{ProducerID: 1, FirstOffset: 2}}
	p1 := kmsg.NewFetchResponseTopicPartition()
	p1.Partition, p1.ErrorCode, p1.RecordBatches = 1, 6, nil
	p2 := kmsg.NewFetchResponseTopicPartition()
	p2.Partition, p2.RecordBatches = 2, b
	rt.Partitions = append(rt.Partitions, p0, p1, p2)
	resp.Topics = append(resp.Topics, rt)
	body := resp.AppendTo(nil)
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))
	frame = binary.BigEndian.AppendUint32(frame, 7)
	frame = append(frame, body...)

	type got struct {
		p             int32
		code          int16
		next, n, recs int64
	}
	var gots []got
	err := readFetchStream(bufio.NewReader(bytes.NewReader(frame)), 7, func(p int32, code int16, next, n, recs int64) error {
		gots = append(gots, got{p, code, next, n, recs})
		return nil
	})
	want := []got{{0, 0, 16, int64(len(a) + len(b)), 6}, {1, 6, 0, 0, 0}, {2, 0, 16, int64(len(b)), 2}}
	if err != nil || !slices.Equal(gots, want) {
		t.Fatalf("readFetchStream = %+v, %v; want %+v", gots, err, want)
	}
	if err := readFetchStream(bufio.NewReader(bytes.NewReader(frame)), 8, func(int32, int16, int64, int64, int64) error { return nil }); err == nil {
		t.Error("wrong correlation id accepted")
	}
	if err := readFetchStream(bufio.NewReader(bytes.NewReader(frame[:len(frame)-20])), 7, func(int32, int16, int64, int64, int64) error { return nil }); err == nil {
		t.Error("cut frame accepted")
	}
}

func TestParseCounts(t *testing.T) {
	got, err := parseCounts("100, 1_000,10000")
	if err != nil || !slices.Equal(got, []int{100, 1000, 10000}) {
		t.Errorf("got %v %v", got, err)
	}
	for _, bad := range []string{"", "0", "10,x", ","} {
		if _, err := parseCounts(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if s := topicSizes(250, 100); !slices.Equal(s, []int{100, 100, 50}) {
		t.Errorf("topicSizes(250, 100) = %v", s)
	}
}

func TestWriteAmpAndSummary(t *testing.T) {
	r := newResults()
	r.order = []string{sysAilurus, sysKfake}
	for i, w := range closedLoop {
		s := sample{rep: newReport(100, 1, 1e6), cpu: 2, writeB: 3e6, recFsync: float64(2 * (i + 1))}
		s.rep.BytesAll = 2e6
		r.add(w, sysAilurus, s)
	}
	if v, ok := r.writeAmp(sysAilurus, 0); !ok || v != 1.5 {
		t.Errorf("writeAmp = %v %v, want 1.5", v, ok)
	}
	if _, ok := r.writeAmp(sysKfake, 0); ok {
		t.Error("writeAmp without samples")
	}
	if v, ok := r.mbPerCPU(sysAilurus, 0); !ok || v != 0.5 {
		t.Errorf("mbPerCPU = %v %v, want 0.5", v, ok)
	}
	r.c1[sysAilurus] = []c1Sample{{fetch: c1Read{Bytes: 3e9, Seconds: 2, BrokerCPUs: 1}, consumer: c1Read{Bytes: 1e9, Seconds: 2}, loopback: 3}}
	r.rss[sysAilurus] = 100 << 20
	o := options{rounds: 1, duration: 4 * time.Second, warmup: time.Second}
	sum := r.summarize(o)
	var buf bytes.Buffer
	if err := sum.writeJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got summary
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	results := map[string]checkRow{}
	for _, c := range got.Checks {
		results[c.Name] = c
	}
	if c := results["C1 catch-up read GB/s, raw fetch (absolute)"]; c.Result != "pass" || *c.Median != 1.5 {
		t.Errorf("C1 fetch check %+v", c)
	}
	if c := results["C1 catch-up read GB/s, kgo consumer (absolute)"]; c.Result != "info" {
		t.Errorf("C1 consumer check %+v", c)
	}
	if c := results["C1 read GB/s, raw fetch, vs loopback TCP ceiling"]; c.Result != "info" || *c.Median != 0.5 {
		t.Errorf("C1 vs loopback check %+v", c)
	}
	if y := got.Systems[0]; *y.C1FetchGBPerCPUSecond != 3 || *y.LoopbackGBps != 3 {
		t.Errorf("C1 per CPU-s %v, loopback %v", *y.C1FetchGBPerCPUSecond, *y.LoopbackGBps)
	}
	if c := results["T1 records/s vs kfake-mem"]; c.Result != "n/a" || c.Median != nil || len(c.Rounds) != 1 || c.Rounds[0] != nil {
		t.Errorf("check without peer %+v", c)
	}
	if len(got.Systems) != 2 || *got.Systems[0].DiskPerAcked != 1.5 || *got.Systems[0].RecordsPerFsync != 4 || got.Systems[1].RecordsPerFsync != nil || got.Systems[1].MBPerCPUSecond != nil {
		t.Errorf("systems %+v", got.Systems)
	}
	if len(got.Workloads) != 3 || got.Workloads[0].DiskPerAcked != 1.5 || *got.Workloads[0].RecordsPerFsync != 2 || len(got.Workloads[0].Runs) != 1 {
		t.Errorf("workloads %+v", got.Workloads)
	}
	buf.Reset()
	if err := sum.writeText(&buf); err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.Contains(l, "C1 catch-up read GB/s, raw fetch (absolute)") {
			line = strings.Join(strings.Fields(l), " ")
		}
	}
	if !strings.HasSuffix(line, "(absolute) 1.50 1.50 >= 1.0 pass") {
		t.Errorf("C1 line %q", line)
	}
	if !strings.Contains(buf.String(), "records/fsync: Ailurus' ailurus_kafka_records_in_total") {
		t.Errorf("text lacks the records-per-fsync note:\n%s", buf.String())
	}
}

// TestScrapeFsyncs reads the counters from a Prometheus page as the admin
// API serves it: every shard's series summed, other families ignored.
func TestScrapeFsyncs(t *testing.T) {
	page := `# HELP ailurus_kafka_records_in_total Records produced.
# TYPE ailurus_kafka_records_in_total counter
ailurus_kafka_records_in_total{role="shard",shard="0"} 1000
ailurus_kafka_records_in_total{role="shard",shard="1"} 500
ailurus_kafka_records_in_totally_other 7
ailurus_storage_fsyncs_total{role="shard",shard="0"} 10
ailurus_storage_fsyncs_total{role="shard",shard="1"} 5
`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, page)
	}))
	defer srv.Close()
	c, err := scrapeFsyncs(context.Background(), srv.URL)
	if err != nil || c.records != 1500 || c.fsyncs != 15 {
		t.Fatalf("scrape: %+v %v", c, err)
	}
	if v, ok := c.perFsync(fsyncCounters{records: 300, fsyncs: 3}); !ok || v != 100 {
		t.Errorf("perFsync = %v %v, want 100", v, ok)
	}
	if _, ok := c.perFsync(c); ok {
		t.Error("perFsync without fsyncs")
	}
	if _, err := scrapeFsyncs(context.Background(), srv.URL+"/nope"); err == nil {
		t.Error("a 404 scraped")
	}
}

func TestLoopbackCeiling(t *testing.T) {
	gbps, err := loopbackGBps(8 << 20)
	if err != nil || gbps <= 0 {
		t.Fatalf("loopback %v GB/s, %v", gbps, err)
	}
}

func TestDiskSpace(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/f", make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := allocatedBytes(dir); n < 1<<20 {
		t.Errorf("allocatedBytes = %d, want >= 1 MiB", n)
	}
	if free, err := freeBytes(dir); err != nil || free <= 0 {
		t.Errorf("freeBytes = %d, %v", free, err)
	}
}

// TestRawAppendPaced: D3's appends start at most once per pace, D1's back
// to back.
func TestRawAppendPaced(t *testing.T) {
	paced, err := rawAppend(t.TempDir(), 4, 300*time.Millisecond, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if n := paced.Produce.Count; n < 1 || n > 4 {
		t.Errorf("paced at 100 ms for 300 ms: %d appends, want 1-4", n)
	}
	free, err := rawAppend(t.TempDir(), 4, 300*time.Millisecond, 0)
	if err != nil {
		t.Fatal(err)
	}
	if free.Produce.Count <= paced.Produce.Count {
		t.Errorf("back to back: %d appends, paced %d", free.Produce.Count, paced.Produce.Count)
	}
}
