// Command benchsuite is `make bench`: it starts Ailurus (the built binary,
// durable default mode, 2 shards), kfake in memory, kfake with an fsync
// per batch and NATS JetStream with file storage (fsync on every write, and
// JetStream's default 2-minute sync), each fresh on free ports
// in its own process, and runs the same workloads (T1, T2, T3, L1 of issue
// 4) against each in interleaved rounds: the Kafka systems with `ailurus
// bench`'s load generator, NATS with nats.go's JetStream publisher. Each
// round also measures the raw disk (D1: fdatasync of ~4 KiB appends into a
// preallocated file; D2: sequential 1 MiB appends, fdatasync each; D3: D1
// paced at one append per ms). Then
// C1 reads 1 GiB back from 12 partitions of Ailurus and kfake. It prints one
// table of per-round ratios, their median and the bars, the medians
// of every workload and per-system figures (text, or -format json). Exit
// status 0 even when a bar is missed: it reports, it does not gate.
//
// With -scale (`make bench-scale`) it instead measures one Ailurus node
// idle and across a restart with 100, 1,000 and 10,000 partitions.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"time"
)

func main() {
	if mode := os.Getenv(kfakeEnv); mode != "" {
		serveKfake(mode)
	}
	if mode := os.Getenv(natsEnv); mode != "" {
		serveNATS(mode)
	}
	o := options{}
	var c1MiB int64
	var scale string
	flag.StringVar(&o.binary, "binary", "bin/ailurus", "the ailurus binary to benchmark")
	flag.StringVar(&o.dir, "dir", os.TempDir(), "directory for the brokers' data and the raw fdatasync file; put it on the disk under test")
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved rounds")
	flag.DurationVar(&o.duration, "duration", 4*time.Second, "length of each run, warm-up included")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "start of each run left out of the figures")
	flag.BoolVar(&o.noFsyncPeer, "no-kfake-fsync", false, "leave out kfake with fsync")
	flag.BoolVar(&o.noNATS, "no-nats", false, "leave out NATS JetStream (both)")
	flag.BoolVar(&o.noNATSDefault, "no-nats-default", false, "leave out NATS JetStream with its default sync (keep the one that fsyncs every write)")
	var only string
	flag.StringVar(&only, "workloads", "T1,T2,T3,L1", "comma-separated workloads to run against every system (empty: none, only C1)")
	flag.IntVar(&o.smp, "smp", 2, "shards of the Ailurus node")
	flag.Int64Var(&c1MiB, "c1-mib", 1024, "MiB written, then read back, by C1 (0: no C1)")
	flag.StringVar(&o.format, "format", "text", "text or json")
	flag.StringVar(&scale, "scale", "", "instead of the peer suite, measure a node with these partition counts, e.g. 100,1000,10000")
	flag.IntVar(&o.topicPartitions, "topic-partitions", 100, "-scale: partitions per topic")
	flag.DurationVar(&o.scaleTimeout, "scale-timeout", 10*time.Minute, "-scale: bound on each start, creation and restart")
	flag.Int64Var(&o.segmentBytes, "segment-bytes", 0, "-scale: segment.bytes of the topics (0: the default; below 1 MiB the active segment is not preallocated)")
	flag.DurationVar(&o.settle, "settle", 15*time.Second, "-scale: wait before measuring an idle node")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the suite's own process (the load generators and C1's readers) to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchsuite: -cpuprofile:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	o.c1Bytes = c1MiB << 20
	var err error
	if o.workloads, err = pickWorkloads(only); err != nil {
		fmt.Fprintln(os.Stderr, "benchsuite: -workloads:", err)
		os.Exit(2)
	}
	if o.format != "text" && o.format != "json" {
		fmt.Fprintf(os.Stderr, "benchsuite: -format %q: want text or json\n", o.format)
		os.Exit(2)
	}
	if scale != "" {
		if o.scale, err = parseCounts(scale); err == nil {
			err = runScale(context.Background(), o)
		}
	} else {
		err = run(context.Background(), o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchsuite:", err)
		os.Exit(1)
	}
}
