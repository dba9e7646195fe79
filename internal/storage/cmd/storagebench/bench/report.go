package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Report is a suite's outcome: one row per scenario, then the checks.
type Report struct {
	Dir             string  `json:"dir"`
	Filesystem      string  `json:"filesystem,omitempty"` // set by the caller
	Rounds          int     `json:"rounds"`
	RunSeconds      float64 `json:"run_seconds"`
	FlusherParallel int     `json:"flusher_parallel"`
	RecordBytes     int     `json:"record_bytes"`
	Rows            []Row   `json:"scenarios"`
	Checks          []Check `json:"checks"`
}

// Row is one scenario across the rounds.
type Row struct {
	Scenario   string    `json:"scenario"`
	Engine     string    `json:"engine"`
	BatchBytes int       `json:"batch_bytes"`
	Partitions int       `json:"partitions"`
	Appenders  int       `json:"appenders_per_partition"`
	Rounds     []Figures `json:"rounds"`
	Median     Figures   `json:"median"`

	sc Scenario
}

// Failed says whether any target was missed.
func (r *Report) Failed() bool {
	for _, c := range r.Checks {
		if c.Op != "" && !c.Pass {
			return true
		}
	}
	return false
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as a table of medians, the per-round MB/s
// beside them, then the checks with their per-round values.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "storage benchmark: %s (%s), %d rounds x %gs per scenario, %d B records, flusher parallel %d; medians of the rounds\n\n",
		r.Dir, r.Filesystem, r.Rounds, r.RunSeconds, r.RecordBytes, r.FlusherParallel)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tengine\tbatch B\tMB/s\tappends/s\tbatches/fsync\tpeak fsyncs\tp50\tp99\tp99.9\tMB/s by round\t")
	for _, row := range r.Rows {
		m := row.Median
		var byRound []string
		for _, f := range row.Rounds {
			byRound = append(byRound, fmt.Sprintf("%.0f", f.MBps))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.0f\t%.2f\t%.0f\t%s\t%s\t%s\t%s\t\n",
			row.Scenario, row.Engine, row.BatchBytes, m.MBps, m.AppendsPerSec, m.BatchesPerSync, m.PeakParallelSyncs,
			fmtMs(m.P50Ms), fmtMs(m.P99Ms), fmtMs(m.P999Ms), strings.Join(byRound, " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "check\tmedian\ttarget\tby round\tresult")
	for _, c := range r.Checks {
		var byRound []string
		for _, v := range c.Rounds {
			byRound = append(byRound, fmtUnit(v, c.Unit))
		}
		target, result := "", "info"
		if c.Op != "" {
			target = c.Op + " " + fmtUnit(c.Target, c.Unit)
			result = "FAIL"
			if c.Pass {
				result = "PASS"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name, fmtUnit(c.Median, c.Unit), target, strings.Join(byRound, " "), result)
	}
	return tw.Flush()
}

func fmtUnit(v float64, unit string) string {
	if unit == "%" {
		return fmt.Sprintf("%.0f%%", v)
	}
	return fmt.Sprintf("%.2f%s", v, unit)
}

// fmtMs prints a latency in milliseconds with about three digits.
func fmtMs(ms float64) string {
	switch {
	case ms < 1:
		return fmt.Sprintf("%.3fms", ms)
	case ms < 10:
		return fmt.Sprintf("%.2fms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1fms", ms)
	}
	return fmt.Sprintf("%.0fms", ms)
}
