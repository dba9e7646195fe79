package bench

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// Shapes is the storage benchmark's load, in table order. The names are
// what Checks look rows up by.
var Shapes = []Shape{
	{Name: "16KiB x1", Records: 16, Partitions: 1, Appenders: 1},
	{Name: "16KiB x8", Records: 16, Partitions: 1, Appenders: 8},
	{Name: "1MiB x1", Records: 1024, Partitions: 1, Appenders: 1},
	{Name: "1MiB x8", Records: 1024, Partitions: 1, Appenders: 8},
	{Name: "16KiB 1p x12", Records: 16, Partitions: 1, Appenders: 12},
	{Name: "16KiB 12p x1", Records: 16, Partitions: 12, Appenders: 1},
}

// Suite runs scenarios in interleaved rounds: every scenario once per round,
// rounds one after another, so that a noisy neighbour on the machine spreads
// over all of them rather than spoiling one.
type Suite struct {
	Setup
	Scenarios []Scenario
	Rounds    int
	Duration  time.Duration // of each run
	Progress  io.Writer     // a line per run; nil for none
}

// Scenarios is every shape through every engine, in table order; keep says
// which to run (nil: all).
func Scenarios(keep func(Scenario) bool) []Scenario {
	var out []Scenario
	for _, sh := range Shapes {
		for _, e := range Engines {
			sc := Scenario{Shape: sh, Engine: e}
			if keep == nil || keep(sc) {
				out = append(out, sc)
			}
		}
	}
	return out
}

// Run runs the suite and summarises it.
func (s Suite) Run() (*Report, error) {
	rep := &Report{
		Dir: s.Dir, Rounds: s.Rounds, RunSeconds: s.Duration.Seconds(),
		FlusherParallel: s.FlusherParallel, RecordBytes: RecordBytes,
	}
	rows := make([]Row, len(s.Scenarios))
	for r := range s.Rounds {
		for i, sc := range s.Scenarios {
			run, err := Prepare(sc, s.Setup)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", sc, err)
			}
			res, err := run.Go(Stop{Until: time.Now().Add(s.Duration)})
			if cerr := run.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", sc, err)
			}
			f := figuresOf(res)
			if r == 0 {
				rows[i] = Row{Scenario: sc.Name, Engine: sc.Engine.String(), BatchBytes: run.BatchBytes(),
					Partitions: sc.Partitions, Appenders: sc.Appenders, sc: sc}
			}
			rows[i].Rounds = append(rows[i].Rounds, f)
			if s.Progress != nil {
				fmt.Fprintf(s.Progress, "round %d/%d  %-14s %-24s %8.1f MB/s %9.0f appends/s %6.2f b/fsync  p50 %s  p99 %s  p99.9 %s\n",
					r+1, s.Rounds, sc.Name, sc.Engine, f.MBps, f.AppendsPerSec, f.BatchesPerSync,
					fmtMs(f.P50Ms), fmtMs(f.P99Ms), fmtMs(f.P999Ms))
			}
		}
	}
	for i := range rows {
		rows[i].Median = medianFigures(rows[i].Rounds)
	}
	rep.Rows = rows
	rep.Checks = evaluate(rows, s.Rounds)
	return rep, nil
}

// Figures are one run's measurements, or the per-field medians of several.
type Figures struct {
	MBps           float64 `json:"mb_per_s"`
	AppendsPerSec  float64 `json:"appends_per_s"`
	BatchesPerSync float64 `json:"batches_per_fsync"`
	P50Ms          float64 `json:"p50_ms"`
	P99Ms          float64 `json:"p99_ms"`
	P999Ms         float64 `json:"p999_ms"`
	// PeakParallelSyncs is the most fdatasyncs in flight at once.
	PeakParallelSyncs float64 `json:"peak_parallel_fsyncs"`
}

func figuresOf(r Result) Figures {
	ms := func(p float64) float64 { return float64(r.Percentile(p)) / float64(time.Millisecond) }
	return Figures{
		MBps: r.MBps(), AppendsPerSec: r.AppendsPerSec(), BatchesPerSync: r.BatchesPerSync(),
		P50Ms: ms(50), P99Ms: ms(99), P999Ms: ms(99.9), PeakParallelSyncs: float64(r.PeakParallelSyncs),
	}
}

func medianFigures(fs []Figures) Figures {
	m := func(get func(Figures) float64) float64 {
		v := make([]float64, len(fs))
		for i, f := range fs {
			v[i] = get(f)
		}
		return median(v)
	}
	return Figures{
		MBps:              m(func(f Figures) float64 { return f.MBps }),
		AppendsPerSec:     m(func(f Figures) float64 { return f.AppendsPerSec }),
		BatchesPerSync:    m(func(f Figures) float64 { return f.BatchesPerSync }),
		P50Ms:             m(func(f Figures) float64 { return f.P50Ms }),
		P99Ms:             m(func(f Figures) float64 { return f.P99Ms }),
		P999Ms:            m(func(f Figures) float64 { return f.P999Ms }),
		PeakParallelSyncs: m(func(f Figures) float64 { return f.PeakParallelSyncs }),
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}
