package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// check is one bar of issue 4: a ratio per round, Ailurus over a peer, and
// the bound its median must meet.
type check struct {
	name   string
	ratio  func(r *results, round int) (float64, bool)
	bound  float64
	higher bool // the ratio must be >= bound (else <= bound)
}

func throughputOver(w, peer string) func(*results, int) (float64, bool) {
	return func(r *results, i int) (float64, bool) {
		a, b := r.at(w, sysAilurus, i), r.at(w, peer, i)
		if a == nil || b == nil || b.rep.RecordsPerSec == 0 {
			return 0, false
		}
		return a.rep.RecordsPerSec / b.rep.RecordsPerSec, true
	}
}

func l1P99Over(peer string) func(*results, int) (float64, bool) {
	return func(r *results, i int) (float64, bool) {
		a := r.at("L1", sysAilurus, i)
		if a == nil {
			return 0, false
		}
		if peer == "raw" {
			if i >= len(r.rawP99) || r.rawP99[i] == 0 {
				return 0, false
			}
			return a.rep.Produce.P99 / r.rawP99[i], true
		}
		b := r.at("L1", peer, i)
		if b == nil || b.rep.Produce.P99 == 0 {
			return 0, false
		}
		return a.rep.Produce.P99 / b.rep.Produce.P99, true
	}
}

// mbPerCPU sums bytes and broker CPU seconds of the closed-loop workloads
// (T1-T3) of one round.
func (r *results) mbPerCPU(sys string, i int) (float64, bool) {
	var b, cpu float64
	for _, w := range []string{"T1", "T2", "T3"} {
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

func checks() []check {
	return []check{
		{"T1 records/s vs kfake-mem", throughputOver("T1", sysKfake), 1.0, true},
		{"T2 records/s vs kfake-mem", throughputOver("T2", sysKfake), 1.0, true},
		{"T2 records/s vs kfake-fsync", throughputOver("T2", sysKfakeFsync), 2.0, true},
		{"T3 records/s vs kfake-mem", throughputOver("T3", sysKfake), 1.0, true},
		{"L1 produce p99 vs raw 4KiB fdatasync p99", l1P99Over("raw"), 3.0, false},
		{"L1 produce p99 vs kfake-mem", l1P99Over(sysKfake), 0.5, false},
		{"MB per broker CPU-s (T1-T3) vs kfake-mem", func(r *results, i int) (float64, bool) {
			a, ok1 := r.mbPerCPU(sysAilurus, i)
			b, ok2 := r.mbPerCPU(sysKfake, i)
			if !ok1 || !ok2 || b == 0 {
				return 0, false
			}
			return a / b, true
		}, 1.5, true},
	}
}

func (r *results) at(w, sys string, i int) *sample {
	s := r.runs[w][sys]
	if i >= len(s) {
		return nil
	}
	return &s[i]
}

// write prints the bars table, then the medians of the raw figures.
func (r *results) write(out io.Writer, o options) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	var hdr strings.Builder
	hdr.WriteString("ratio (Ailurus / peer)\t")
	for i := range o.rounds {
		fmt.Fprintf(&hdr, "r%d\t", i+1)
	}
	hdr.WriteString("median\tbar\tresult\t")
	fmt.Fprintln(tw, hdr.String())
	for _, c := range checks() {
		var vals []float64
		line := c.name + "\t"
		for i := range o.rounds {
			v, ok := c.ratio(r, i)
			if !ok {
				line += "-\t"
				continue
			}
			vals = append(vals, v)
			line += fmt.Sprintf("%.2f\t", v)
		}
		op := ">="
		if !c.higher {
			op = "<="
		}
		verdict := "n/a"
		med := "-"
		if len(vals) > 0 {
			m := median(vals)
			med = fmt.Sprintf("%.2f", m)
			verdict = "FAIL"
			if (c.higher && m >= c.bound) || (!c.higher && m <= c.bound) {
				verdict = "pass"
			}
		}
		line += fmt.Sprintf("%s\t%s %.1f\t%s\t", med, op, c.bound, verdict)
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(out, "\nmedians over %d rounds of %s (warm-up %s excluded); produce-ack latency in ms\n", o.rounds, o.duration, o.warmup)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tsystem\trecords/s\tMB/s\tp50\tp99\tp99.9\tmax\tbroker CPU s\tMB/CPU-s\terrors\t")
	for _, w := range workloads {
		for _, sys := range r.order {
			ss := r.runs[w.name][sys]
			if len(ss) == 0 {
				continue
			}
			f := func(g func(sample) float64) float64 {
				v := make([]float64, len(ss))
				for i, s := range ss {
					v[i] = g(s)
				}
				return median(v)
			}
			var errs int64
			for _, s := range ss {
				errs += s.rep.Errors
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.1f\t%.3f\t%.3f\t%.3f\t%.3f\t%.2f\t%.0f\t%d\t\n", w.name, sys,
				f(func(s sample) float64 { return s.rep.RecordsPerSec }),
				f(func(s sample) float64 { return s.rep.MBPerSec }),
				f(func(s sample) float64 { return s.rep.Produce.P50 }),
				f(func(s sample) float64 { return s.rep.Produce.P99 }),
				f(func(s sample) float64 { return s.rep.Produce.P999 }),
				f(func(s sample) float64 { return s.rep.Produce.Max }),
				f(func(s sample) float64 { return s.cpu }),
				f(func(s sample) float64 {
					if s.cpu == 0 {
						return 0
					}
					return float64(s.rep.Bytes) / 1e6 / s.cpu
				}),
				errs)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.rawP99) > 0 {
		fmt.Fprintf(out, "raw ~4 KiB append+fdatasync p99, preallocated file: %.3f ms (median of rounds)\n", median(r.rawP99))
	}
	for _, sys := range r.order {
		fmt.Fprintf(out, "peak RSS (VmHWM, all processes) %s: %.0f MiB\n", sys, float64(r.rss[sys])/(1<<20))
	}
	return nil
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
