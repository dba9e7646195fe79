package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/ailurus/ailurus/cli/bench"
)

// summary is what the suite prints, as text or JSON: built once from the
// results so that both forms carry the same figures.
type summary struct {
	Rounds    int           `json:"rounds"`
	Duration  string        `json:"duration"`
	Warmup    string        `json:"warmup"`
	Checks    []checkRow    `json:"checks"`
	Workloads []workloadRow `json:"workloads"`
	Systems   []systemRow   `json:"systems"`
	Notes     []string      `json:"notes"`
}

// checkRow is one check: its value per round (null where it could not be
// computed), their median and the verdict: pass, FAIL, n/a (no value) or
// info (no bar).
type checkRow struct {
	Name   string     `json:"name"`
	Rounds []*float64 `json:"rounds"`
	Median *float64   `json:"median"`
	Bar    string     `json:"bar,omitempty"` // ">= 1.0", "<= 3.0"
	Result string     `json:"result"`
}

// workloadRow is the medians over rounds of one workload on one system,
// and every round's report.
type workloadRow struct {
	Workload       string        `json:"workload"`
	System         string        `json:"system"`
	RecordsPerSec  float64       `json:"records_per_sec"`
	MBPerSec       float64       `json:"mb_per_sec"`
	Produce        bench.Latency `json:"produce_latency"` // each percentile the median of the rounds'
	CPUSeconds     float64       `json:"broker_cpu_seconds"`
	MBPerCPUSecond float64       `json:"mb_per_cpu_second"`
	DiskPerAcked   float64       `json:"disk_bytes_per_acked_byte"`
	// RecordsPerFsync is records written per fdatasync, from the node's
	// counters; null where not measured (peers).
	RecordsPerFsync *float64        `json:"records_per_fsync"`
	Errors          int64           `json:"errors"` // summed over rounds
	Runs            []workloadRound `json:"runs"`
}

type workloadRound struct {
	Report         *bench.Report `json:"report"`
	CPUSeconds     float64       `json:"broker_cpu_seconds"`
	DiskWriteBytes int64         `json:"disk_write_bytes"`
}

// systemRow is what is known of one system over the whole run. Pointers
// are null where not measured.
type systemRow struct {
	System          string   `json:"system"`
	PeakRSSBytes    int64    `json:"peak_rss_bytes"`
	MBPerCPUSecond  *float64 `json:"mb_per_cpu_second"`         // T1-T3, median of rounds
	DiskPerAcked    *float64 `json:"disk_bytes_per_acked_byte"` // T1-T3, median of rounds
	RecordsPerFsync *float64 `json:"records_per_fsync"`         // T1-T3, median of rounds; Ailurus only
	C1FillMBPerSec  *float64 `json:"c1_fill_mb_per_sec"`
	C1FetchGBps     *float64 `json:"c1_fetch_gb_per_sec"`    // median of rounds
	C1ConsumerGBps  *float64 `json:"c1_consumer_gb_per_sec"` // median of rounds
	// C1FetchGBPerCPUSecond is GB read by the raw fetcher per broker
	// CPU-second, median of rounds.
	C1FetchGBPerCPUSecond *float64 `json:"c1_fetch_gb_per_cpu_second"`
	// LoopbackGBps is the loopback TCP ceiling measured before this
	// system's reads, median of rounds.
	LoopbackGBps *float64 `json:"loopback_tcp_gb_per_sec"`
}

func ptr(v float64) *float64 { return &v }

// medianOf is the median of the values ok for rounds 0..n-1; nil if none.
func medianOf(n int, f func(i int) (float64, bool)) *float64 {
	var v []float64
	for i := range n {
		if x, ok := f(i); ok {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return nil
	}
	return ptr(median(v))
}

func (r *results) summarize(o options) *summary {
	s := &summary{Rounds: o.rounds, Duration: o.duration.String(), Warmup: o.warmup.String()}
	for _, c := range checks() {
		row := checkRow{Name: c.name, Result: "n/a"}
		var vals []float64
		for i := range o.rounds {
			v, ok := c.ratio(r, i)
			if !ok {
				row.Rounds = append(row.Rounds, nil)
				continue
			}
			vals = append(vals, v)
			row.Rounds = append(row.Rounds, ptr(v))
		}
		if c.bound != 0 {
			op := ">="
			if !c.higher {
				op = "<="
			}
			row.Bar = fmt.Sprintf("%s %.1f", op, c.bound)
		}
		if len(vals) > 0 {
			m := median(vals)
			row.Median = &m
			switch {
			case c.bound == 0:
				row.Result = "info"
			case (c.higher && m >= c.bound) || (!c.higher && m <= c.bound):
				row.Result = "pass"
			default:
				row.Result = "FAIL"
			}
		}
		s.Checks = append(s.Checks, row)
	}
	systems := append([]string{sysDisk}, r.order...)
	for _, w := range append(workloadNames(), "D1", "D2", "D3") {
		for _, sys := range systems {
			ss := r.runs[w][sys]
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
			row := workloadRow{
				Workload: w, System: sys,
				RecordsPerSec: f(recordsPerSec), MBPerSec: f(mbPerSec),
				Produce: bench.Latency{
					Count: int64(f(func(s sample) float64 { return float64(s.rep.Produce.Count) })),
					P50:   f(p50), P99: f(p99),
					P999: f(func(s sample) float64 { return s.rep.Produce.P999 }),
					Max:  f(func(s sample) float64 { return s.rep.Produce.Max }),
				},
				CPUSeconds: f(func(s sample) float64 { return s.cpu }),
				MBPerCPUSecond: f(func(s sample) float64 {
					if s.cpu == 0 {
						return 0
					}
					return float64(s.rep.Bytes) / 1e6 / s.cpu
				}),
				DiskPerAcked: f(sample.writeAmp),
			}
			if ss[0].recFsync > 0 {
				row.RecordsPerFsync = ptr(f(func(s sample) float64 { return s.recFsync }))
			}
			for _, smp := range ss {
				row.Errors += smp.rep.Errors
				row.Runs = append(row.Runs, workloadRound{Report: smp.rep, CPUSeconds: smp.cpu, DiskWriteBytes: smp.writeB})
			}
			s.Workloads = append(s.Workloads, row)
		}
	}
	for _, sys := range r.order {
		row := systemRow{
			System:          sys,
			PeakRSSBytes:    r.rss[sys],
			MBPerCPUSecond:  medianOf(o.rounds, func(i int) (float64, bool) { return r.mbPerCPU(sys, i) }),
			DiskPerAcked:    medianOf(o.rounds, func(i int) (float64, bool) { return r.writeAmp(sys, i) }),
			RecordsPerFsync: medianOf(o.rounds, func(i int) (float64, bool) { return r.recordsPerFsync(sys, i) }),
			C1FetchGBps:     medianOf(o.rounds, func(i int) (float64, bool) { return r.c1GBps(sys, i, false) }),
			C1ConsumerGBps:  medianOf(o.rounds, func(i int) (float64, bool) { return r.c1GBps(sys, i, true) }),
		}
		c1 := r.c1[sys]
		row.C1FetchGBPerCPUSecond = medianOf(len(c1), func(i int) (float64, bool) {
			f := c1[i].fetch
			return float64(f.Bytes) / 1e9 / f.BrokerCPUs, f.BrokerCPUs > 0
		})
		row.LoopbackGBps = medianOf(len(c1), func(i int) (float64, bool) { return c1[i].loopback, c1[i].loopback > 0 })
		if f := r.c1Fill[sys]; f != nil {
			row.C1FillMBPerSec = ptr(f.MBPerSec)
		}
		s.Systems = append(s.Systems, row)
	}
	s.Notes = []string{
		"D1: raw WriteAt+fdatasync of 4 x 1 KiB records (~4.2 KiB) into a preallocated file, back to back, 1 s per round; D2: the same with 1 MiB (1024 records), fdatasync every 1 MiB, 2 s per round; D3: D1 paced at one append per ms, about L1's pace of produce requests; measured just before L1 in the same run",
		"disk B/acked B: write_bytes of /proc/<pid>/io summed over the broker's processes, over the run, per value byte acknowledged (warm-up included); kfake-mem writes nothing",
		"records/fsync: Ailurus' ailurus_kafka_records_in_total over ailurus_storage_fsyncs_total from its admin API's /metrics, before and after each run (after the shards' next push); per system, the median of T1-T3's; the peers do not say",
		"nats-js-fsync / nats-js: embedded nats-server (v2.15), JetStream file storage with sync_always (fsync before every ack) / with its default 2-minute sync interval; one stream per partition; nats.go jetstream async publish with every ack awaited, at most the Kafka producers' unacknowledged bytes and 10,000 messages per publisher; no Nats-Msg-Id dedup",
	}
	var whole []string
	for _, w := range s.Workloads {
		for i, run := range w.Runs {
			if run.Report.WholeRun {
				whole = append(whole, fmt.Sprintf("%s on %s round %d", w.Workload, w.System, i+1))
			}
		}
	}
	if len(whole) > 0 {
		s.Notes = append(s.Notes, "no record created after the warm-up was acknowledged in "+strings.Join(whole, ", ")+": those runs' figures cover every ack from the start of the run (the in-flight window took longer than the run to drain)")
	}
	if r.c1Bytes > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("C1: %d MiB of 1 KiB records in %d partitions, produced once (acks=all, 4 producers), then read from offset 0 once per round: raw fetch = Fetch requests of %d MiB (%d MiB per partition) read as a stream through a 256 KiB buffer, walking only batch headers (batch bytes counted); kgo consumer = franz-go with its default fetch sizes (50 MiB, 1 MiB per partition) decoding every record (value bytes counted), bound by the client's CPU on a small machine whatever the broker; reads come from the page cache (the data was just written); loopback = 512 MiB over a 127.0.0.1 TCP connection between two goroutines of the suite just before each system's reads, the ceiling of any read on this machine at that moment",
			r.c1Bytes>>20, c1Partitions, c1FetchMaxBytes>>20, c1PartitionMaxBytes>>20))
	}
	return s
}

func workloadNames() []string {
	var n []string
	for _, w := range workloads {
		n = append(n, w.name)
	}
	return n
}

func (s *summary) writeJSON(out io.Writer) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

func fmtOpt(v *float64, format string) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf(format, *v)
}

// writeText prints the checks table, the medians of every workload, then
// the per-system figures and the notes.
func (s *summary) writeText(out io.Writer) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	var hdr strings.Builder
	hdr.WriteString("check (Ailurus / peer unless absolute)\t")
	for i := range s.Rounds {
		fmt.Fprintf(&hdr, "r%d\t", i+1)
	}
	hdr.WriteString("median\tbar\tresult\t")
	fmt.Fprintln(tw, hdr.String())
	for _, c := range s.Checks {
		line := c.Name + "\t"
		for _, v := range c.Rounds {
			line += fmtOpt(v, "%.2f") + "\t"
		}
		bar := c.Bar
		if bar == "" {
			bar = "-"
		}
		line += fmt.Sprintf("%s\t%s\t%s\t", fmtOpt(c.Median, "%.2f"), bar, c.Result)
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(out, "\nmedians over %d rounds of %s (warm-up %s excluded); produce-ack latency in ms (D1-D3: WriteAt+fdatasync)\n", s.Rounds, s.Duration, s.Warmup)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tsystem\trecords/s\tMB/s\tp50\tp99\tp99.9\tmax\tbroker CPU s\tMB/CPU-s\tdisk B/acked B\terrors\t")
	for _, w := range s.Workloads {
		cpu, perCPU, amp := fmt.Sprintf("%.2f", w.CPUSeconds), fmt.Sprintf("%.0f", w.MBPerCPUSecond), fmt.Sprintf("%.2f", w.DiskPerAcked)
		if w.System == sysDisk {
			cpu, perCPU, amp = "-", "-", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.1f\t%.3f\t%.3f\t%.3f\t%.3f\t%s\t%s\t%s\t%d\t\n", w.Workload, w.System,
			w.RecordsPerSec, w.MBPerSec, w.Produce.P50, w.Produce.P99, w.Produce.P999, w.Produce.Max, cpu, perCPU, amp, w.Errors)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(out, "\nper system (T1-T3 and C1: median of rounds)")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\tpeak RSS MiB\tMB/CPU-s T1-T3\tdisk B/acked B T1-T3\trecords/fsync\tC1 fill MB/s\tC1 fetch GB/s\tC1 fetch GB/CPU-s\tC1 kgo GB/s\tloopback GB/s\t")
	for _, y := range s.Systems {
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", y.System, float64(y.PeakRSSBytes)/(1<<20),
			fmtOpt(y.MBPerCPUSecond, "%.0f"), fmtOpt(y.DiskPerAcked, "%.2f"), fmtOpt(y.RecordsPerFsync, "%.1f"),
			fmtOpt(y.C1FillMBPerSec, "%.0f"), fmtOpt(y.C1FetchGBps, "%.2f"), fmtOpt(y.C1FetchGBPerCPUSecond, "%.2f"),
			fmtOpt(y.C1ConsumerGBps, "%.2f"), fmtOpt(y.LoopbackGBps, "%.2f"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out)
	for _, n := range s.Notes {
		if _, err := fmt.Fprintln(out, "- "+n); err != nil {
			return err
		}
	}
	return nil
}
