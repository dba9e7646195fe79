package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/ailurus/ailurus/cli/bench"
	sbench "github.com/ailurus/ailurus/internal/storage/cmd/storagebench/bench"
)

type options struct {
	binary      string
	dir         string
	rounds      int
	duration    time.Duration
	warmup      time.Duration
	noFsyncPeer bool
}

// Names of the systems, as the table prints them.
const (
	sysAilurus    = "ailurus"
	sysKfake      = "kfake-mem"
	sysKfakeFsync = "kfake-fsync"
)

// sample is one run of one workload against one system.
type sample struct {
	rep *bench.Report
	cpu float64 // broker CPU seconds over the run
}

// results holds every sample: by workload, then system, one per round.
type results struct {
	runs   map[string]map[string][]sample
	rawP99 []float64 // ms, raw 4 KiB fdatasync p99 of each round
	rss    map[string]int64
	order  []string // systems, in start order
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
		func() (*system, error) { return startAilurus(o.binary, dir) },
		func() (*system, error) { return startKfake(sysKfake, "") },
	}
	if !o.noFsyncPeer {
		starters = append(starters, func() (*system, error) { return startKfake(sysKfakeFsync, dir+"/kfake-data") })
	}
	res := &results{runs: map[string]map[string][]sample{}, rss: map[string]int64{}}
	for _, start := range starters {
		s, err := start()
		if err != nil {
			return err
		}
		systems = append(systems, s)
		res.order = append(res.order, s.name)
	}
	fmt.Fprintf(os.Stderr, "benchsuite: %d workloads x %d systems x %d rounds x %s (warm-up %s) in %s\n",
		len(workloads), len(systems), o.rounds, o.duration, o.warmup, dir)

	for round := range o.rounds {
		for _, w := range workloads {
			if w.name == "L1" {
				p99, err := rawFdatasyncP99(dir)
				if err != nil {
					return fmt.Errorf("raw fdatasync: %w", err)
				}
				res.rawP99 = append(res.rawP99, p99)
				fmt.Fprintf(os.Stderr, "round %d raw 4KiB fdatasync p99 %.3f ms\n", round+1, p99)
			}
			// Rotate the order every round so no system always goes first.
			for i := range systems {
				s := systems[(i+round)%len(systems)]
				topic := fmt.Sprintf("bench-%s-r%d", w.name, round)
				pid := s.cmd.Process.Pid
				cpu0 := cpuSeconds(pid)
				rep, err := bench.Run(ctx, w.config(s.kafka, topic, o.duration, o.warmup))
				if err != nil {
					return fmt.Errorf("%s on %s, round %d: %w", w.name, s.name, round+1, err)
				}
				cpu := cpuSeconds(pid) - cpu0
				res.add(w.name, s.name, sample{rep: rep, cpu: cpu})
				fmt.Fprintf(os.Stderr, "round %d %s %-11s %8.0f rec/s %7.2f MB/s p99 %8.3f ms cpu %.2f s errors %d\n",
					round+1, w.name, s.name, rep.RecordsPerSec, rep.MBPerSec, rep.Produce.P99, cpu, rep.Errors)
			}
		}
	}
	for _, s := range systems {
		res.rss[s.name] = peakRSS(s.cmd.Process.Pid)
	}
	return res.write(os.Stdout, o)
}

// rawFdatasyncP99 is the p99 of WriteAt+fdatasync of one 4 x 1 KiB record
// batch (about 4.2 KiB) into a preallocated file for one second, in ms.
func rawFdatasyncP99(dir string) (float64, error) {
	sc := sbench.Scenario{
		Shape:  sbench.Shape{Name: "raw4k", Records: 4, Partitions: 1, Appenders: 1},
		Engine: sbench.RawBuffered,
	}
	r, err := sbench.Prepare(sc, sbench.Setup{Dir: dir, FlusherParallel: 1})
	if err != nil {
		return 0, err
	}
	defer r.Close()
	res, err := r.Go(sbench.Stop{Until: time.Now().Add(time.Second)})
	if err != nil {
		return 0, err
	}
	return float64(res.Percentile(99)) / float64(time.Millisecond), nil
}
