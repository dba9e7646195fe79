// Command benchsuite is `make bench`: it starts Ailurus (the built binary,
// durable default mode, 2 shards), kfake in memory and kfake with an fsync
// per batch, each fresh on free ports in its own process, and runs the same
// workloads (T1, T2, T3, L1 of issue 4) against each with `ailurus bench`'s
// load generator in interleaved rounds. Each round also measures the raw
// fdatasync latency of ~4 KiB appends into a preallocated file (the
// storagebench raw engine). It prints one table of per-round ratios, their
// median and the bars. Exit status 0 even when a bar is missed: it
// reports, it does not gate.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	if mode := os.Getenv(kfakeEnv); mode != "" {
		serveKfake(mode)
	}
	o := options{}
	flag.StringVar(&o.binary, "binary", "bin/ailurus", "the ailurus binary to benchmark")
	flag.StringVar(&o.dir, "dir", os.TempDir(), "directory for the brokers' data and the raw fdatasync file; put it on the disk under test")
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved rounds")
	flag.DurationVar(&o.duration, "duration", 4*time.Second, "length of each run, warm-up included")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "start of each run left out of the figures")
	flag.BoolVar(&o.noFsyncPeer, "no-kfake-fsync", false, "leave out kfake with fsync")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "benchsuite:", err)
		os.Exit(1)
	}
}
