package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// newHistogram records latencies in microseconds, 1 µs to 10 minutes, 3
// significant digits.
func newHistogram() *hdrhistogram.Histogram { return hdrhistogram.New(1, 600_000_000, 3) }

// recordLatency adds d to h, clamped to the histogram's range.
func recordLatency(h *hdrhistogram.Histogram, d time.Duration) {
	us := d.Microseconds()
	us = max(us, 1)
	us = min(us, h.HighestTrackableValue())
	_ = h.RecordValue(us)
}

// Latency summarises a histogram, in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p99_9_ms"`
	Max   float64 `json:"max_ms"`
}

// latencyOf reads the percentiles of h (µs) into milliseconds.
func latencyOf(h *hdrhistogram.Histogram) Latency {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Latency{
		Count: h.TotalCount(),
		P50:   ms(h.ValueAtPercentile(50)),
		P99:   ms(h.ValueAtPercentile(99)),
		P999:  ms(h.ValueAtPercentile(99.9)),
		Max:   ms(h.Max()),
	}
}

// Report is what a run measured; figures cover the records created after
// the warm-up only.
type Report struct {
	Topic         string  `json:"topic"`
	RecordSize    int     `json:"record_size"`
	Producers     int     `json:"producers"`
	Consumers     int     `json:"consumers"`
	TargetRate    float64 `json:"target_rate"` // records/s, 0 = closed loop
	Seconds       float64 `json:"seconds"`     // measured window, warm-up excluded
	Records       int64   `json:"records"`     // acknowledged in the window
	Bytes         int64   `json:"bytes"`       // value bytes acknowledged in the window
	BytesAll      int64   `json:"bytes_all"`   // value bytes acknowledged over the whole run, warm-up included
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"` // 10^6 bytes of values per second
	Produce       Latency `json:"produce_latency"`
	// EndToEnd is nil without consumers: time from record creation to a
	// consumer holding it.
	EndToEnd   *Latency `json:"end_to_end_latency,omitempty"`
	Errors     int64    `json:"errors"`     // failed produces and fetch errors, warm-up included
	Consumed   int64    `json:"consumed"`   // distinct records read back (all, warm-up included)
	Duplicates int64    `json:"duplicates"` // records read more than once
	Missing    int64    `json:"missing"`    // acknowledged but not read back before the drain ended
	// WholeRun says no record created after the warm-up was acknowledged,
	// so the figures cover every ack from the start of the run instead
	// (a system far slower than its in-flight window).
	WholeRun bool `json:"whole_run,omitempty"`
	// Interrupted says the run was stopped (Ctrl-C) before its end.
	Interrupted bool `json:"interrupted,omitempty"`
}

// WriteJSON writes r as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r for a person.
func (r *Report) WriteText(w io.Writer) error {
	mode := "closed loop"
	if r.TargetRate > 0 {
		mode = fmt.Sprintf("open loop at %.0f records/s", r.TargetRate)
	}
	_, err := fmt.Fprintf(w, "topic %s, %d B records, %d producers, %d consumers, %s, %.1f s measured\n"+
		"throughput   %.0f records/s  %.2f MB/s  (%d records)\n"+
		"produce ack  %s\n",
		r.Topic, r.RecordSize, r.Producers, r.Consumers, mode, r.Seconds,
		r.RecordsPerSec, r.MBPerSec, r.Records, r.Produce)
	if err != nil {
		return err
	}
	if r.EndToEnd != nil {
		if _, err := fmt.Fprintf(w, "end to end   %s\nconsumed     %d  duplicates %d  missing %d\n",
			*r.EndToEnd, r.Consumed, r.Duplicates, r.Missing); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(w, "errors       %d\n", r.Errors); err != nil {
		return err
	}
	if r.Interrupted {
		_, err = fmt.Fprintln(w, "interrupted: the run stopped early")
	}
	return err
}

// String formats the percentiles on one line.
func (l Latency) String() string {
	return fmt.Sprintf("p50 %s  p99 %s  p99.9 %s  max %s ms (%d samples)",
		fmtMs(l.P50), fmtMs(l.P99), fmtMs(l.P999), fmtMs(l.Max), l.Count)
}

// fmtMs keeps three significant figures below 10 ms and none above.
func fmtMs(ms float64) string {
	switch {
	case ms < 1:
		return fmt.Sprintf("%.3f", ms)
	case ms < 10:
		return fmt.Sprintf("%.2f", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f", ms)
	}
	return fmt.Sprintf("%.0f", ms)
}
