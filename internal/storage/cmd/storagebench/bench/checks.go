package bench

import "fmt"

// Check is one of the targets, or a figure shown beside them
// (Op empty), computed per round from that round's runs and summarised by
// the median of the rounds.
type Check struct {
	Name   string    `json:"name"`
	Unit   string    `json:"unit"` // "%" or "x"
	Rounds []float64 `json:"rounds"`
	Median float64   `json:"median"`
	Op     string    `json:"op,omitempty"` // ">=" or "<="; empty: no target
	Target float64   `json:"target,omitempty"`
	Pass   bool      `json:"pass"`
}

// lookup gives one round's figures of a scenario; false if it did not run.
type lookup func(shape string, e Engine) (Figures, bool)

type checkSpec struct {
	name, unit, op string
	target         float64
	value          func(get lookup) (float64, bool)
}

// ratio is a/b of two scenarios' figures (as a percentage if pct).
func ratio(sa string, ea Engine, sb string, eb Engine, field func(Figures) float64, pct bool) func(lookup) (float64, bool) {
	return func(get lookup) (float64, bool) {
		a, ok1 := get(sa, ea)
		b, ok2 := get(sb, eb)
		if !ok1 || !ok2 || field(b) == 0 {
			return 0, false
		}
		v := field(a) / field(b)
		if pct {
			v *= 100
		}
		return v, true
	}
}

func checkSpecs() []checkSpec {
	mbps := func(f Figures) float64 { return f.MBps }
	p99 := func(f Figures) float64 { return f.P99Ms }
	aps := func(f Figures) float64 { return f.AppendsPerSec }
	var specs []checkSpec
	// Each log mode is held against the raw disk written the same way.
	for _, m := range []struct{ log, raw Engine }{{LogBuffered, RawBuffered}, {LogDirect, RawDirect}} {
		for _, sh := range []string{"1MiB x1", "1MiB x8"} {
			specs = append(specs, checkSpec{
				name: fmt.Sprintf("%s: %s bytes/s vs %s", sh, m.log, m.raw), unit: "%", op: ">=", target: 85,
				value: ratio(sh, m.log, sh, m.raw, mbps, true),
			})
		}
		specs = append(specs,
			checkSpec{
				name: fmt.Sprintf("16KiB x8: %s batches per fsync", m.log), unit: "x", op: ">=", target: 4,
				value: func(get lookup) (float64, bool) {
					f, ok := get("16KiB x8", m.log)
					return f.BatchesPerSync, ok
				},
			},
			checkSpec{
				name: fmt.Sprintf("16KiB x8: %s p99 vs 16KiB x1 %s p99", m.log, m.raw), unit: "x", op: "<=", target: 2,
				value: ratio("16KiB x8", m.log, "16KiB x1", m.raw, p99, false),
			},
			checkSpec{
				// The flushes of 12 logs go out together through the shared
				// Flusher, as 12 raw files fdatasync'd at once do.
				name: fmt.Sprintf("16KiB 12p x1: %s vs %s appends/s", m.log, m.raw), unit: "%", op: ">=", target: 85,
				value: ratio("16KiB 12p x1", m.log, "16KiB 12p x1", m.raw, aps, true),
			},
			checkSpec{
				// The comparison; hashicorp/raft with one file per
				// group got 30% (9.6k vs 32k appends/s).
				name: fmt.Sprintf("16KiB: %s 12p x1 vs 1p x12 appends/s", m.log), unit: "%",
				value: ratio("16KiB 12p x1", m.log, "16KiB 1p x12", m.log, aps, true),
			},
		)
	}
	specs = append(specs,
		checkSpec{name: "16KiB 12p x1: raw 12 files vs 1 file x12 appends/s", unit: "%",
			value: ratio("16KiB 12p x1", RawBuffered, "16KiB 1p x12", RawBuffered, aps, true)},
		checkSpec{name: "1MiB x1: log (O_DIRECT) vs log (buffered) bytes/s", unit: "%",
			value: ratio("1MiB x1", LogDirect, "1MiB x1", LogBuffered, mbps, true)},
		checkSpec{name: "1MiB x8: log (O_DIRECT) vs log (buffered) bytes/s", unit: "%",
			value: ratio("1MiB x8", LogDirect, "1MiB x8", LogBuffered, mbps, true)},
		checkSpec{name: "1MiB x1: raw O_DIRECT vs raw buffered bytes/s", unit: "%",
			value: ratio("1MiB x1", RawDirect, "1MiB x1", RawBuffered, mbps, true)},
		checkSpec{name: "16KiB x8: log (O_DIRECT) vs log (buffered) appends/s", unit: "%",
			value: ratio("16KiB x8", LogDirect, "16KiB x8", LogBuffered, aps, true)},
	)
	return specs
}

// evaluate computes every check whose scenarios ran.
func evaluate(rows []Row, rounds int) []Check {
	out := []Check{}
	for _, spec := range checkSpecs() {
		c := Check{Name: spec.name, Unit: spec.unit, Op: spec.op, Target: spec.target}
		for r := range rounds {
			get := func(shape string, e Engine) (Figures, bool) {
				for _, row := range rows {
					if row.sc.Name == shape && row.sc.Engine == e && r < len(row.Rounds) {
						return row.Rounds[r], true
					}
				}
				return Figures{}, false
			}
			v, ok := spec.value(get)
			if !ok {
				break
			}
			c.Rounds = append(c.Rounds, v)
		}
		if len(c.Rounds) != rounds {
			continue
		}
		c.Median = median(c.Rounds)
		switch c.Op {
		case ">=":
			c.Pass = c.Median >= c.Target
		case "<=":
			c.Pass = c.Median <= c.Target
		}
		out = append(out, c)
	}
	return out
}
