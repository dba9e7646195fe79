package main

import (
	"slices"
)

// check is one line of the ratio table: a figure per round, most often
// Ailurus over a peer, and the bar its median must meet (bound 0: shown
// for information, no bar).
type check struct {
	name   string
	ratio  func(r *results, round int) (float64, bool)
	bound  float64
	higher bool // the ratio must be >= bound (else <= bound)
}

// field picks a figure of a sample.
type field func(sample) float64

func recordsPerSec(s sample) float64 { return s.rep.RecordsPerSec }
func mbPerSec(s sample) float64      { return s.rep.MBPerSec }
func p50(s sample) float64           { return s.rep.Produce.P50 }
func p99(s sample) float64           { return s.rep.Produce.P99 }

// over is f of Ailurus in workload w divided by f of peer in workload pw
// (the disk's D1-D3 are workloads of their own).
func over(w string, f field, peer, pw string) func(*results, int) (float64, bool) {
	return func(r *results, i int) (float64, bool) {
		a, b := r.at(w, sysAilurus, i), r.at(pw, peer, i)
		if a == nil || b == nil || f(*b) == 0 {
			return 0, false
		}
		return f(*a) / f(*b), true
	}
}

// mbPerCPU sums bytes and broker CPU seconds of the closed-loop workloads
// (T1-T3) of one round.
func (r *results) mbPerCPU(sys string, i int) (float64, bool) {
	var b, cpu float64
	for _, w := range closedLoop {
		s := r.at(w, sys, i)
		if s == nil {
			return 0, false
		}
		b += float64(s.rep.Bytes)
		cpu += s.cpu
	}
	if cpu == 0 {
		return 0, false
	}
	return b / 1e6 / cpu, true
}

// recordsPerFsync is the median of sys's records per fsync over the
// closed-loop workloads of one round (Ailurus only).
func (r *results) recordsPerFsync(sys string, i int) (float64, bool) {
	var v []float64
	for _, w := range closedLoop {
		s := r.at(w, sys, i)
		if s == nil || s.recFsync <= 0 {
			return 0, false
		}
		v = append(v, s.recFsync)
	}
	return median(v), true
}

// writeAmp is the bytes sys wrote to disk per value byte acknowledged over
// the closed-loop workloads of one round.
func (r *results) writeAmp(sys string, i int) (float64, bool) {
	var wb, acked float64
	for _, w := range closedLoop {
		s := r.at(w, sys, i)
		if s == nil {
			return 0, false
		}
		wb += float64(s.writeB)
		acked += float64(s.rep.BytesAll)
	}
	if acked == 0 {
		return 0, false
	}
	return wb / acked, true
}

var closedLoop = []string{"T1", "T2", "T3"}

// c1GBps is the C1 read rate of sys in round i, by the raw fetcher or the
// kgo consumer.
func (r *results) c1GBps(sys string, i int, consumer bool) (float64, bool) {
	s := r.c1[sys]
	if i >= len(s) {
		return 0, false
	}
	if consumer {
		return s[i].consumer.GBps(), true
	}
	return s[i].fetch.GBps(), true
}

func checks() []check {
	cs := []check{
		{"T1 records/s vs kfake-mem", over("T1", recordsPerSec, sysKfake, "T1"), 1.0, true},
		{"T2 records/s vs kfake-mem", over("T2", recordsPerSec, sysKfake, "T2"), 1.0, true},
		{"T2 records/s vs kfake-fsync", over("T2", recordsPerSec, sysKfakeFsync, "T2"), 2.0, true},
		{"T3 records/s vs kfake-mem", over("T3", recordsPerSec, sysKfake, "T3"), 1.0, true},
		{"L1 produce p99 vs raw 4KiB fdatasync p99 (D1)", over("L1", p99, sysDisk, "D1"), 3.0, false},
		{"L1 produce p99 vs kfake-mem", over("L1", p99, sysKfake, "L1"), 0.5, false},
		{"MB per broker CPU-s (T1-T3) vs kfake-mem", func(r *results, i int) (float64, bool) {
			a, ok1 := r.mbPerCPU(sysAilurus, i)
			b, ok2 := r.mbPerCPU(sysKfake, i)
			if !ok1 || !ok2 || b == 0 {
				return 0, false
			}
			return a / b, true
		}, 1.5, true},
		{"C1 catch-up read GB/s, raw fetch (absolute)", func(r *results, i int) (float64, bool) {
			return r.c1GBps(sysAilurus, i, false)
		}, 1.0, true},
		// For information: no bar in issue 4. The kgo consumer is what an
		// application decoding every record sees; on this machine it is
		// bound by the client's CPU, against any broker (see the kfake row).
		{"C1 catch-up read GB/s, kgo consumer (absolute)", func(r *results, i int) (float64, bool) {
			return r.c1GBps(sysAilurus, i, true)
		}, 0, true},
		{"C1 read GB/s, kgo consumer, vs kfake-mem", func(r *results, i int) (float64, bool) {
			a, ok1 := r.c1GBps(sysAilurus, i, true)
			b, ok2 := r.c1GBps(sysKfake, i, true)
			if !ok1 || !ok2 || b == 0 {
				return 0, false
			}
			return a / b, true
		}, 0, true},
		{"C1 read GB/s, raw fetch, vs kfake-mem", func(r *results, i int) (float64, bool) {
			a, ok1 := r.c1GBps(sysAilurus, i, false)
			b, ok2 := r.c1GBps(sysKfake, i, false)
			if !ok1 || !ok2 || b == 0 {
				return 0, false
			}
			return a / b, true
		}, 0, true},
		{"C1 read GB/s, raw fetch, vs loopback TCP ceiling", func(r *results, i int) (float64, bool) {
			s := r.c1[sysAilurus]
			if i >= len(s) || s[i].loopback == 0 {
				return 0, false
			}
			return s[i].fetch.GBps() / s[i].loopback, true
		}, 0, true},
		{"T1 MB/s vs raw 1MiB sequential write (D2)", over("T1", mbPerSec, sysDisk, "D2"), 0, true},
		{"T2 MB/s vs raw 1MiB sequential write (D2)", over("T2", mbPerSec, sysDisk, "D2"), 0, true},
		{"L1 produce p50 vs raw 4KiB fdatasync p50 (D1)", over("L1", p50, sysDisk, "D1"), 0, false},
		{"L1 produce p99 vs raw 4KiB fdatasync p99 paced 1/ms (D3)", over("L1", p99, sysDisk, "D3"), 0, false},
	}
	for _, peer := range []string{sysNATSFsync, sysNATS} {
		for _, w := range []string{"T1", "T2", "T3"} {
			cs = append(cs, check{w + " records/s vs " + peer, over(w, recordsPerSec, peer, w), 0, true})
		}
		cs = append(cs, check{"L1 produce p99 vs " + peer, over("L1", p99, peer, "L1"), 0, false})
	}
	return cs
}

func (r *results) at(w, sys string, i int) *sample {
	s := r.runs[w][sys]
	if i >= len(s) {
		return nil
	}
	return &s[i]
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
