package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/ailurus/ailurus/cli/bench"
)

// workload is one fixed load of the suite; every one runs with acks=all,
// idempotence on, linger 1 ms and no compression (issue 4).
type workload struct {
	name       string
	recordSize int
	partitions int
	producers  int
	rate       float64 // records/s, 0 = closed loop
}

// pickWorkloads returns the workloads named in list (comma-separated), in
// the suite's order.
func pickWorkloads(list string) ([]workload, error) {
	want := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	var out []workload
	for _, w := range workloads {
		if want[w.name] {
			out = append(out, w)
			delete(want, w.name)
		}
	}
	for n := range want {
		return nil, fmt.Errorf("no workload %q (have T1, T2, T3, L1)", n)
	}
	return out, nil
}

var workloads = []workload{
	{name: "T1", recordSize: 1024, partitions: 1, producers: 1},
	{name: "T2", recordSize: 1024, partitions: 12, producers: 8},
	{name: "T3", recordSize: 100, partitions: 1, producers: 1},
	{name: "L1", recordSize: 1024, partitions: 1, producers: 1, rate: 5000},
}

// inflightBytes is what all producers of a workload may hold unacknowledged
// together: enough for several 1 MiB batches in flight, small enough that a
// run ends soon after its deadline (the client default, 10,000 records per
// producer, let T2 queue 80 MB and drain for seconds).
const inflightBytes = 8 << 20

// config is w against brokers on a fresh topic.
func (w workload) config(brokers, topic string, dur, warmup time.Duration) bench.Config {
	c := bench.DefaultConfig()
	c.Brokers = []string{brokers}
	c.Topic = topic
	c.Partitions = w.partitions
	c.RecordSize = w.recordSize
	c.Producers = w.producers
	c.Rate = w.rate
	c.Duration = dur
	c.Warmup = warmup
	c.MaxBufferedBytes = inflightBytes / w.producers
	c.Acks, c.Idempotent, c.Linger, c.Compression = "all", true, time.Millisecond, "none"
	return c
}
