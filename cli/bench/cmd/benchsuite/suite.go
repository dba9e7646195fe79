package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/ailurus/ailurus/cli/bench"
	sbench "github.com/ailurus/ailurus/internal/storage/cmd/storagebench/bench"
)

type options struct {
	binary        string
	dir           string
	rounds        int
	duration      time.Duration
	warmup        time.Duration
	noFsyncPeer   bool
	noNATS        bool
	noNATSDefault bool
	c1Bytes       int64 // 0: no C1
	workloads     []workload
	smp           int // shards of the Ailurus node
	format        string

	// Scale mode (-scale) replaces the peer suite.
	scale           []int
	topicPartitions int
	scaleTimeout    time.Duration
	segmentBytes    int64 // segment.bytes of the topics created (0: the default)
	settle          time.Duration
}

// Names of the systems, as the table prints them.
const (
	sysAilurus    = "ailurus"
	sysKfake      = "kfake-mem"
	sysKfakeFsync = "kfake-fsync"
	sysDisk       = "disk" // the raw limits D1, D2 and D3
)

// c1Systems are the systems C1 reads from.
var c1Systems = []string{sysAilurus, sysKfake}

// sample is one run of one workload against one system.
type sample struct {
	rep    *bench.Report
	cpu    float64 // broker CPU seconds over the run
	writeB int64   // bytes the broker's processes wrote to disk over the run (/proc/<pid>/io write_bytes)
	// recFsync is records written per fdatasync over the run, from the
	// node's counters (Ailurus only; 0: not measured).
	recFsync float64
}

// c1Sample is one round of C1 on one system.
type c1Sample struct {
	fetch, consumer c1Read
	loopback        float64 // GB/s over loopback TCP just before the reads
}

// loopbackBytes is what the loopback ceiling sends each time.
const loopbackBytes = 512 << 20

// results holds every sample: by workload, then system, one per round.
type results struct {
	runs    map[string]map[string][]sample
	rss     map[string]int64
	order   []string // systems, in start order
	c1      map[string][]c1Sample
	c1Fill  map[string]*bench.Report // the produce that filled the C1 topic
	c1Bytes int64
}

func newResults() *results {
	return &results{
		runs: map[string]map[string][]sample{}, rss: map[string]int64{},
		c1: map[string][]c1Sample{}, c1Fill: map[string]*bench.Report{},
	}
}

func (r *results) add(w, sys string, s sample) {
	if r.runs[w] == nil {
		r.runs[w] = map[string][]sample{}
	}
	r.runs[w][sys] = append(r.runs[w][sys], s)
}

func run(ctx context.Context, o options) error {
	if o.rounds < 1 || o.duration <= o.warmup {
		return fmt.Errorf("-rounds %d -duration %s -warmup %s: need rounds >= 1 and duration > warmup", o.rounds, o.duration, o.warmup)
	}
	if _, err := os.Stat(o.binary); err != nil {
		return fmt.Errorf("-binary: %w (run `make build` first)", err)
	}
	dir, err := os.MkdirTemp(o.dir, "benchsuite-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var systems []*system
	defer func() {
		for _, s := range systems {
			s.stop()
		}
	}()
	starters := []func() (*system, error){
		func() (*system, error) {
			return startAilurus(o.binary, filepath.Join(dir, "ailurus-data"), o.smp, childReadyTimeout)
		},
		func() (*system, error) { return startKfake(sysKfake, "") },
	}
	if !o.noFsyncPeer {
		starters = append(starters, func() (*system, error) { return startKfake(sysKfakeFsync, filepath.Join(dir, "kfake-data")) })
	}
	if !o.noNATS {
		starters = append(starters, func() (*system, error) { return startNATS(filepath.Join(dir, "nats-fsync-data"), true) })
		if !o.noNATSDefault {
			starters = append(starters, func() (*system, error) { return startNATS(filepath.Join(dir, "nats-data"), false) })
		}
	}
	res := newResults()
	res.c1Bytes = o.c1Bytes
	for _, start := range starters {
		s, err := start()
		if err != nil {
			return err
		}
		systems = append(systems, s)
		res.order = append(res.order, s.name)
	}
	began := time.Now()
	fmt.Fprintf(os.Stderr, "benchsuite: %d workloads x %d systems x %d rounds x %s (warm-up %s) in %s\n",
		len(o.workloads), len(systems), o.rounds, o.duration, o.warmup, dir)

	for round := range o.rounds {
		for _, w := range o.workloads {
			if w.name == "L1" {
				if err := measureDisk(dir, round, res); err != nil {
					return err
				}
			}
			// Rotate the order every round so no system always goes first.
			for i := range systems {
				s := systems[(i+round)%len(systems)]
				topic := fmt.Sprintf("bench-%s-r%d", w.name, round)
				pid := s.cmd.Process.Pid
				var rep *bench.Report
				var err error
				var fs0 fsyncCounters
				if admin := s.adminURL(); admin != "" {
					if fs0, err = scrapeFsyncs(ctx, admin); err != nil {
						return fmt.Errorf("%s metrics: %w", s.name, err)
					}
				}
				cpu0, wb0 := cpuSeconds(pid), writeBytes(pid)
				if s.nats {
					rep, err = runNATS(ctx, "nats://"+s.kafka, w, topic, o.duration, o.warmup)
				} else {
					rep, err = bench.Run(ctx, w.config(s.kafka, topic, o.duration, o.warmup))
				}
				if err != nil {
					return fmt.Errorf("%s on %s, round %d: %w", w.name, s.name, round+1, err)
				}
				smp := sample{rep: rep, cpu: cpuSeconds(pid) - cpu0, writeB: writeBytes(pid) - wb0}
				if admin := s.adminURL(); admin != "" {
					fs1, err := fsyncsAfterRun(ctx, admin)
					if err != nil {
						return fmt.Errorf("%s metrics: %w", s.name, err)
					}
					smp.recFsync, _ = fs1.perFsync(fs0)
				}
				res.add(w.name, s.name, smp)
				if err := dropTopic(ctx, s, w, topic); err != nil {
					return fmt.Errorf("%s after %s, round %d: %w", s.name, w.name, round+1, err)
				}
				fmt.Fprintf(os.Stderr, "round %d %s %-11s %8.0f rec/s %7.2f MB/s p99 %8.3f ms cpu %.2f s disk %.2f B/B rec/fsync %.1f errors %d\n",
					round+1, w.name, s.name, rep.RecordsPerSec, rep.MBPerSec, rep.Produce.P99, smp.cpu, smp.writeAmp(), smp.recFsync, rep.Errors)
			}
		}
	}
	if o.c1Bytes > 0 {
		if err := runC1(ctx, o, systems, res); err != nil {
			return err
		}
	}
	for _, s := range systems {
		res.rss[s.name] = peakRSS(s.cmd.Process.Pid)
	}
	fmt.Fprintf(os.Stderr, "benchsuite: measured in %s\n", time.Since(began).Round(time.Second))
	sum := res.summarize(o)
	if o.format == "json" {
		return sum.writeJSON(os.Stdout)
	}
	return sum.writeText(os.Stdout)
}

// writeAmp is the bytes written to disk per value byte acknowledged; 0
// without acks.
func (s sample) writeAmp() float64 {
	if s.rep == nil || s.rep.BytesAll == 0 {
		return 0
	}
	return float64(s.writeB) / float64(s.rep.BytesAll)
}

// settleHeap collects the suite's own garbage before a C1 read, so that
// the GC does not work off the last read's hundreds of MiB of response
// buffers during the next one. The memory stays with the process: handing
// it back to the OS would make the next read fault it in again.
func settleHeap() { runtime.GC() }

// runC1 fills the C1 topic on each C1 system, then reads it all back once
// per round, alternating the systems.
func runC1(ctx context.Context, o options, systems []*system, res *results) error {
	var c1 []*system
	for _, s := range systems {
		for _, name := range c1Systems {
			if s.name == name {
				c1 = append(c1, s)
			}
		}
	}
	ends := map[string]map[int32]int64{}
	for _, s := range c1 {
		e, rep, err := c1Produce(ctx, s.kafka, o.c1Bytes)
		if err != nil {
			return fmt.Errorf("C1 fill on %s: %w", s.name, err)
		}
		ends[s.name], res.c1Fill[s.name] = e, rep
		fmt.Fprintf(os.Stderr, "C1 fill %-11s %d records, %.0f MB/s\n", s.name, rep.Records, rep.MBPerSec)
	}
	for round := range o.rounds {
		for i := range c1 {
			s := c1[(i+round)%len(c1)]
			lo, err := loopbackGBps(loopbackBytes)
			if err != nil {
				return fmt.Errorf("loopback ceiling: %w", err)
			}
			pid := s.cmd.Process.Pid
			settleHeap()
			cpu0 := cpuSeconds(pid)
			f, err := c1FetchRead(ctx, s.kafka, ends[s.name])
			if err != nil {
				return fmt.Errorf("C1 fetch read on %s: %w", s.name, err)
			}
			settleHeap()
			cpu1 := cpuSeconds(pid)
			c, err := c1ConsumerRead(ctx, s.kafka, ends[s.name])
			if err != nil {
				return fmt.Errorf("C1 consumer read on %s: %w", s.name, err)
			}
			f.BrokerCPUs, c.BrokerCPUs = cpu1-cpu0, cpuSeconds(pid)-cpu1
			res.c1[s.name] = append(res.c1[s.name], c1Sample{fetch: f, consumer: c, loopback: lo})
			fmt.Fprintf(os.Stderr, "round %d C1 %-11s fetch %.2f GB/s (%d records in %.2f s, broker CPU %.2f s), kgo consumer %.2f GB/s (broker CPU %.2f s), loopback TCP %.2f GB/s\n",
				round+1, s.name, f.GBps(), f.Records, f.Seconds, f.BrokerCPUs, c.GBps(), c.BrokerCPUs, lo)
		}
	}
	return nil
}

// Disk limits measured each round just before L1, with the storage
// benchmark's raw engine (os.File WriteAt + fdatasync, preallocated file):
// D1 appends batches of 4 x 1 KiB records (about 4.2 KiB) for 1 s, D2
// appends 1 MiB batches (1024 x 1 KiB) for 2 s, fdatasync after each, back
// to back. D3 is D1 paced at one append per millisecond, about the pace of
// L1's produce requests (5,000 records/s, 1 ms linger).
var diskShapes = []struct {
	workload string
	records  int
	dur      time.Duration
	pace     time.Duration
}{
	{"D1", 4, time.Second, 0},
	{"D2", 1024, 2 * time.Second, 0},
	{"D3", 4, time.Second, time.Millisecond},
}

func measureDisk(dir string, round int, res *results) error {
	for _, d := range diskShapes {
		rep, err := rawAppend(dir, d.records, d.dur, d.pace)
		if err != nil {
			return fmt.Errorf("raw %s: %w", d.workload, err)
		}
		res.add(d.workload, sysDisk, sample{rep: rep})
		fmt.Fprintf(os.Stderr, "round %d %s disk        %8.0f rec/s %7.2f MB/s p50 %.3f ms p99 %.3f ms\n",
			round+1, d.workload, rep.RecordsPerSec, rep.MBPerSec, rep.Produce.P50, rep.Produce.P99)
	}
	return nil
}

// rawAppend runs one raw append shape and reports it as a bench.Report: a
// record is 1 KiB, the latency is that of WriteAt+fdatasync.
func rawAppend(dir string, records int, dur, pace time.Duration) (*bench.Report, error) {
	sc := sbench.Scenario{
		Shape:  sbench.Shape{Name: "raw", Records: records, Partitions: 1, Appenders: 1},
		Engine: sbench.RawBuffered,
	}
	r, err := sbench.Prepare(sc, sbench.Setup{Dir: dir, FlusherParallel: 1})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	res, err := r.Go(sbench.Stop{Until: time.Now().Add(dur), Pace: pace})
	if err != nil {
		return nil, err
	}
	ms := func(p float64) float64 { return float64(res.Percentile(p)) / float64(time.Millisecond) }
	return &bench.Report{
		RecordSize: sbench.RecordBytes, Producers: 1, Seconds: res.Elapsed.Seconds(),
		Records: res.Appends * int64(records), Bytes: res.Bytes, BytesAll: res.Bytes,
		RecordsPerSec: res.AppendsPerSec() * float64(records), MBPerSec: res.MBps(),
		Produce: bench.Latency{Count: res.Appends, P50: ms(50), P99: ms(99), P999: ms(99.9),
			Max: float64(res.Latency.Max()) / 1000},
	}, nil
}
