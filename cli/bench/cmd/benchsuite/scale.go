package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ailurus/ailurus/internal/storage"
)

// Scale mode (`make bench-scale`): for each partition count, a fresh
// Ailurus node (2 shards) gets that many partitions, in topics of
// -topic-partitions each, then is measured idle, restarted and measured
// again. Issue 4's bars: idle RSS <= 300 MiB at 1,000 partitions; 10,000
// partitions start and serve.

// scaleRSSBar is the idle RSS bar at scaleRSSBarAt partitions.
const (
	scaleRSSBar   = 300 << 20
	scaleRSSBarAt = 1000
)

// scaleResult is one partition count. Durations are in seconds; a stage
// that was not reached is 0 and Failure says what went wrong.
type scaleResult struct {
	Partitions int `json:"partitions"`
	Topics     int `json:"topics"`
	// CreateSeconds runs from the CreateTopics request to every partition
	// answering ListOffsets without error.
	CreateSeconds float64 `json:"create_seconds"`
	// ProduceSeconds is one record (acks=all) produced to every partition.
	ProduceSeconds float64 `json:"produce_seconds"`
	// ProduceSkipped says why no record was produced: the first append to
	// a partition preallocates its active segment (256 KiB by default), and
	// the disk could not hold that for every partition. The restart then
	// checks ListOffsets only.
	ProduceSkipped string  `json:"produce_skipped,omitempty"`
	DiskBytes      int64   `json:"disk_bytes"`            // blocks allocated under the data directory, idle
	IdleRSSBytes   int64   `json:"idle_rss_bytes"`        // VmRSS of agent + shards after settling
	IdleCPUPercent float64 `json:"idle_cpu_percent"`      // of one core, over idleWindow
	OpenFDs        int     `json:"open_fds"`              // agent + shards, idle
	StopSeconds    float64 `json:"stop_seconds"`          // SIGTERM to exit
	StopKilled     bool    `json:"stop_killed"`           // did not exit within a minute
	ReadySeconds   float64 `json:"restart_ready_seconds"` // start to `node ready`
	// ServeSeconds runs from the start to every partition answering
	// ListOffsets with the record produced before the restart.
	ServeSeconds        float64  `json:"restart_serve_seconds"`
	RestartIdleRSSBytes int64    `json:"restart_idle_rss_bytes"`
	Failure             string   `json:"failure,omitempty"`
	LastWarnings        []string `json:"last_warnings,omitempty"`
}

// idleWindow is how long idle CPU is measured.
const idleWindow = 10 * time.Second

// parseCounts reads "100,1000,10000".
func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(strings.ReplaceAll(f, "_", ""))
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-scale %q: %q is not a partition count", s, f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-scale %q: no partition counts", s)
	}
	return out, nil
}

// topicSizes splits n partitions into topics of at most per partitions.
func topicSizes(n, per int) []int {
	var out []int
	for n > 0 {
		k := min(n, per)
		out = append(out, k)
		n -= k
	}
	return out
}

// raiseNofile raises this process's open-file limit, which the brokers
// inherit: the soft limit to the hard one, and with CAP_SYS_RESOURCE the
// hard one to fs.nr_open (at most 1<<20).
func raiseNofile() (syscall.Rlimit, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return lim, err
	}
	want := lim.Max
	if b, err := os.ReadFile("/proc/sys/fs/nr_open"); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			want = max(want, min(n, 1<<20))
		}
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: want, Max: want}); err != nil {
		// Without the capability: at least the soft limit up to the hard one.
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: lim.Max, Max: lim.Max}); err != nil {
			return lim, err
		}
	}
	err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	return lim, err
}

func runScale(ctx context.Context, o options) error {
	if _, err := os.Stat(o.binary); err != nil {
		return fmt.Errorf("-binary: %w (run `make build` first)", err)
	}
	lim, err := raiseNofile()
	if err != nil {
		return fmt.Errorf("open-file limit: %w", err)
	}
	fmt.Fprintf(os.Stderr, "benchsuite scale: open-file limit soft %d hard %d\n", lim.Cur, lim.Max)
	var out []scaleResult
	for _, n := range o.scale {
		dir, err := os.MkdirTemp(o.dir, "benchscale-")
		if err != nil {
			return err
		}
		r := scaleOne(ctx, o, n, dir)
		os.RemoveAll(dir)
		out = append(out, r)
		if r.Failure != "" {
			fmt.Fprintf(os.Stderr, "scale %d: FAILED: %s\n", n, r.Failure)
		}
	}
	if o.format == "json" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			NofileSoft uint64        `json:"nofile_soft"`
			NofileHard uint64        `json:"nofile_hard"`
			Results    []scaleResult `json:"results"`
		}{lim.Cur, lim.Max, out})
	}
	return writeScaleText(os.Stdout, out, lim)
}

// scaleOne measures one partition count on a fresh node in dir.
func scaleOne(ctx context.Context, o options, n int, dir string) (r scaleResult) {
	sizes := topicSizes(n, o.topicPartitions)
	r.Partitions, r.Topics = n, len(sizes)
	data := filepath.Join(dir, "data")
	logf := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "scale %d: "+format+"\n", append([]any{n}, a...)...)
	}
	var s *system
	fail := func(format string, a ...any) scaleResult {
		r.Failure = fmt.Sprintf(format, a...)
		if s != nil {
			pid := s.cmd.Process.Pid
			r.Failure += fmt.Sprintf(" (at failure: RSS %.0f MiB, %d open fds, %d processes)",
				float64(currentRSS(pid))/(1<<20), openFDs(pid), len(tree(pid)))
			r.LastWarnings = s.lastProblems()
			s.stop()
		}
		return r
	}
	s, err := startAilurus(o.binary, data, o.smp, o.scaleTimeout)
	if err != nil {
		s = nil
		return fail("first start: %v", err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.kafka), kgo.RequestTimeoutOverhead(o.scaleTimeout),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.MaxBufferedRecords(n+1))
	if err != nil {
		return fail("client: %v", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(int32(o.scaleTimeout.Milliseconds()))
	var topics []string
	start := time.Now()
	for i, k := range sizes {
		t := fmt.Sprintf("scale-%05d", i)
		topics = append(topics, t)
		var configs map[string]*string
		if o.segmentBytes > 0 {
			v := strconv.FormatInt(o.segmentBytes, 10)
			configs = map[string]*string{"segment.bytes": &v}
		}
		resp, err := adm.CreateTopic(ctx, int32(k), -1, configs, t)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			return fail("CreateTopics %s (%d partitions) after %.1f s: %v", t, k, time.Since(start).Seconds(), err)
		}
	}
	logf("CreateTopics of %d topics answered in %.1f s", len(topics), time.Since(start).Seconds())
	if got, err := waitServing(ctx, adm, topics, n, 0, start.Add(o.scaleTimeout)); err != nil {
		return fail("after creating: %d of %d partitions answer ListOffsets after %.0f s: %v", got, n, time.Since(start).Seconds(), err)
	}
	r.CreateSeconds = time.Since(start).Seconds()
	logf("every partition serves %.1f s after CreateTopics", r.CreateSeconds)

	var minEnd int64 // what every partition must hold after the restart
	prealloc := storage.DefaultOptions().FirstPrealloc()
	if o.segmentBytes > 0 && o.segmentBytes < 1<<20 {
		prealloc = 0 // shard/logoptions.go: no preallocation below 1 MiB segments
	}
	need := int64(n) * prealloc
	if free, err := freeBytes(data); err != nil {
		return fail("statfs: %v", err)
	} else if need+scaleDiskMargin > free {
		r.ProduceSkipped = fmt.Sprintf("the first append to each partition preallocates %d KiB, %.1f GiB for %d partitions, and %s has %.1f GiB free (-segment-bytes below 1 MiB turns preallocation off)",
			prealloc>>10, float64(need)/(1<<30), n, o.dir, float64(free)/(1<<30))
		logf("no record produced: %s", r.ProduceSkipped)
	} else {
		start = time.Now()
		pctx, cancel := context.WithTimeout(ctx, o.scaleTimeout)
		var recs []*kgo.Record
		for i, k := range sizes {
			for p := range k {
				recs = append(recs, &kgo.Record{Topic: topics[i], Partition: int32(p), Value: []byte("x")})
			}
		}
		err = cl.ProduceSync(pctx, recs...).FirstErr()
		cancel()
		if err != nil {
			return fail("producing one record to each partition after %.0f s: %v", time.Since(start).Seconds(), err)
		}
		r.ProduceSeconds = time.Since(start).Seconds()
		minEnd = 1
		logf("one record produced to each partition in %.1f s", r.ProduceSeconds)
	}

	pid := s.cmd.Process.Pid
	r.IdleRSSBytes, r.IdleCPUPercent = idle(pid, o.settle)
	r.OpenFDs = openFDs(pid)
	r.DiskBytes = allocatedBytes(data)
	logf("idle: RSS %.0f MiB, CPU %.1f%% of a core, %d open fds", float64(r.IdleRSSBytes)/(1<<20), r.IdleCPUPercent, r.OpenFDs)

	took, killed := s.stop()
	r.StopSeconds, r.StopKilled = took.Seconds(), killed
	logf("stopped in %.1f s (killed: %v)", r.StopSeconds, killed)
	cl.Close()

	start = time.Now()
	s, err = startAilurus(o.binary, data, o.smp, o.scaleTimeout)
	if err != nil {
		s = nil
		return fail("restart: %v", err)
	}
	r.ReadySeconds = time.Since(start).Seconds()
	cl2, err := kgo.NewClient(kgo.SeedBrokers(s.kafka), kgo.RequestTimeoutOverhead(o.scaleTimeout))
	if err != nil {
		return fail("client: %v", err)
	}
	defer cl2.Close()
	adm = kadm.NewClient(cl2)
	if got, err := waitServing(ctx, adm, topics, n, minEnd, start.Add(o.scaleTimeout)); err != nil {
		return fail("after restart: %d of %d partitions serve (end offset >= %d) after %.0f s: %v", got, n, minEnd, time.Since(start).Seconds(), err)
	}
	r.ServeSeconds = time.Since(start).Seconds()
	logf("restart: ready in %.1f s, every partition serves in %.1f s", r.ReadySeconds, r.ServeSeconds)
	r.RestartIdleRSSBytes, _ = idle(s.cmd.Process.Pid, o.settle)
	s.stop()
	return r
}

// scaleDiskMargin is disk space left for everyone else when deciding
// whether the partitions' preallocation fits.
const scaleDiskMargin = 4 << 30

// freeBytes is the space an unprivileged writer may still use under dir.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * st.Bsize, nil
}

// allocatedBytes sums the blocks allocated to the files under dir
// (preallocated space included, holes not).
func allocatedBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			}
		}
		return nil
	})
	return n
}

// idle waits settle, then returns the RSS of pid's tree and its CPU use over
// idleWindow, in percent of one core.
func idle(pid int, settle time.Duration) (int64, float64) {
	time.Sleep(settle)
	c0 := cpuSeconds(pid)
	time.Sleep(idleWindow)
	cpu := (cpuSeconds(pid) - c0) / idleWindow.Seconds() * 100
	return currentRSS(pid), cpu
}

// waitServing polls ListOffsets until all n partitions of topics answer
// without error with an end offset of at least minEnd, or the deadline; it
// returns how many did at the last poll.
func waitServing(ctx context.Context, adm *kadm.Client, topics []string, n int, minEnd int64, deadline time.Time) (int, error) {
	var got int
	var last error
	for {
		offs, err := adm.ListEndOffsets(ctx, topics...)
		if err == nil {
			got = 0
			offs.Each(func(o kadm.ListedOffset) {
				switch {
				case o.Err != nil:
					last = o.Err
				case o.Offset < minEnd:
					last = fmt.Errorf("%s/%d: end offset %d, want >= %d", o.Topic, o.Partition, o.Offset, minEnd)
				default:
					got++
				}
			})
			if got == n {
				return got, nil
			}
		} else {
			last = err
		}
		if time.Now().After(deadline) {
			return got, fmt.Errorf("timed out; last error: %v", last)
		}
		select {
		case <-ctx.Done():
			return got, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func writeScaleText(out io.Writer, rs []scaleResult, lim syscall.Rlimit) error {
	fmt.Fprintf(out, "Ailurus, 2 shards, idle after creating N partitions (one record each) and after a restart; open-file limit %d\n", lim.Cur)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "partitions\ttopics\tcreate s\tproduce 1/partition s\tdisk MiB\tidle RSS MiB\tidle CPU %\topen fds\tstop s\trestart ready s\trestart serve s\tRSS after restart MiB\tresult\t")
	for _, r := range rs {
		res := "ok"
		if r.Failure != "" {
			res = "FAILED"
		}
		produce := fmt.Sprintf("%.1f", r.ProduceSeconds)
		if r.ProduceSkipped != "" {
			produce = "skipped"
		}
		fmt.Fprintf(tw, "%d\t%d\t%.1f\t%s\t%.0f\t%.0f\t%.1f\t%d\t%.1f\t%.1f\t%.1f\t%.0f\t%s\t\n", r.Partitions, r.Topics,
			r.CreateSeconds, produce, float64(r.DiskBytes)/(1<<20), float64(r.IdleRSSBytes)/(1<<20), r.IdleCPUPercent, r.OpenFDs,
			r.StopSeconds, r.ReadySeconds, r.ServeSeconds, float64(r.RestartIdleRSSBytes)/(1<<20), res)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rs {
		if r.ProduceSkipped != "" {
			fmt.Fprintf(out, "%d partitions: no record produced: %s\n", r.Partitions, r.ProduceSkipped)
		}
		if r.Failure != "" {
			fmt.Fprintf(out, "%d partitions FAILED: %s\n", r.Partitions, r.Failure)
			for _, w := range r.LastWarnings {
				fmt.Fprintln(out, "  ", w)
			}
		}
	}
	for _, v := range scaleVerdicts(rs) {
		fmt.Fprintln(out, v)
	}
	return nil
}

// scaleVerdicts states issue 4's bars against rs.
func scaleVerdicts(rs []scaleResult) []string {
	var out []string
	for _, r := range rs {
		if r.Partitions == scaleRSSBarAt && r.IdleRSSBytes > 0 {
			v := "pass"
			if r.IdleRSSBytes > scaleRSSBar {
				v = "FAIL"
			}
			out = append(out, fmt.Sprintf("bar idle RSS <= %d MiB at %d partitions: %.0f MiB, %s",
				scaleRSSBar>>20, scaleRSSBarAt, float64(r.IdleRSSBytes)/(1<<20), v))
		}
		if r.Partitions == 10000 {
			v := "pass"
			if r.Failure != "" {
				v = "FAIL"
			}
			out = append(out, fmt.Sprintf("bar 10000 partitions start and serve (and again after a restart): %s", v))
		}
	}
	return out
}
