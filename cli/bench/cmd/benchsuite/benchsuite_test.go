package main

import (
	"os"
	"testing"
	"time"

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
	r := &results{runs: map[string]map[string][]sample{}, rawP99: []float64{1}}
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
		case "L1 produce p99 vs raw 4KiB fdatasync p99":
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
