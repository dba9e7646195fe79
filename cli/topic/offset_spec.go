package topic

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrBadOffset is a consume -o value that is not in the offset language.
var ErrBadOffset = errors.New("bad offset")

// offsetHelp is the -o language, as rpk has it; shown in errors and help.
const offsetHelp = `offsets:
  start          from the log start (oldest)          end      only new records (newest)
  +N             N after the log start                -N       N before the end
  N  or  N:      from exact offset N                  :N       from the start until offset N (exclusive)
  N:M            offsets N until M (exclusive)        :end     from the start until the current end
  N:end          from N until the current end
  @T  or  @T:    from timestamp T                     @:T      until timestamp T
  @T1:T2         from T1 until T2; T2 may be +DURATION after T1
timestamps: unix milliseconds (or seconds, 10 digits or fewer), RFC 3339, YYYY-MM-DD,
or -DURATION before now (@-1h, @-90s)`

// boundKind says how one side of an offset spec is resolved against a partition.
type boundKind int

const (
	boundNone       boundKind = iota // unbounded (only for the until side)
	boundStart                       // log start offset
	boundEnd                         // high watermark at the time of the request
	boundExact                       // the offset in n
	boundAfterStart                  // log start + n
	boundBeforeEnd                   // high watermark - n
	boundTime                        // first offset with timestamp >= n (unix ms)
)

type bound struct {
	kind boundKind
	n    int64
}

// offsetSpec is a parsed -o: consume from `from` until `until` (exclusive).
type offsetSpec struct {
	from, until bound
}

// parseOffset parses the -o language; now anchors relative timestamps.
func parseOffset(s string, now time.Time) (offsetSpec, error) {
	bad := func(why string) (offsetSpec, error) {
		return offsetSpec{}, fmt.Errorf("%w %q: %s\n%s", ErrBadOffset, s, why, offsetHelp)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return bad("empty")
	}
	if ts, ok := strings.CutPrefix(s, "@"); ok {
		return parseTimeSpec(ts, now, bad)
	}
	switch s {
	case "start", "oldest":
		return offsetSpec{from: bound{kind: boundStart}}, nil
	case "end", "newest":
		return offsetSpec{from: bound{kind: boundEnd}}, nil
	}
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || n < 0 {
			return bad("+N needs a non-negative number")
		}
		return offsetSpec{from: bound{boundAfterStart, n}}, nil
	}
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || n < 0 {
			return bad("-N needs a non-negative number")
		}
		return offsetSpec{from: bound{boundBeforeEnd, n}}, nil
	}
	left, right, ranged := strings.Cut(s, ":")
	var spec offsetSpec
	switch left {
	case "", "start", "oldest":
		spec.from = bound{kind: boundStart}
	default:
		n, err := strconv.ParseUint(left, 10, 63)
		if err != nil {
			return bad("not a keyword, +N, -N, N, N:M or @timestamp")
		}
		spec.from = bound{boundExact, int64(n)}
	}
	if !ranged {
		return spec, nil
	}
	switch right {
	case "":
		if left == "" {
			return bad("a range needs at least one side")
		}
	case "end":
		spec.until = bound{kind: boundEnd}
	default:
		n, err := strconv.ParseUint(right, 10, 63)
		if err != nil {
			return bad("the end of a range is an offset or `end`")
		}
		spec.until = bound{boundExact, int64(n)}
		if spec.from.kind == boundExact && int64(n) < spec.from.n {
			return bad("the range ends before it starts")
		}
	}
	return spec, nil
}

func parseTimeSpec(ts string, now time.Time, bad func(string) (offsetSpec, error)) (offsetSpec, error) {
	if ts == "" {
		return bad("@ needs a timestamp")
	}
	// Whole string one timestamp (RFC 3339 holds colons, so try it first).
	if t, err := parseTimestamp(ts, now); err == nil {
		return offsetSpec{from: bound{boundTime, t}}, nil
	}
	// Otherwise the first colon that splits it into two valid sides.
	for i := 0; i < len(ts); i++ {
		if ts[i] != ':' {
			continue
		}
		l, r := ts[:i], ts[i+1:]
		var spec offsetSpec
		if l == "" {
			spec.from = bound{kind: boundStart}
		} else {
			t, err := parseTimestamp(l, now)
			if err != nil {
				continue
			}
			spec.from = bound{boundTime, t}
		}
		switch {
		case r == "":
			if l == "" {
				return bad("a range needs at least one side")
			}
			return spec, nil
		case r == "end":
			spec.until = bound{kind: boundEnd}
			return spec, nil
		case strings.HasPrefix(r, "+"):
			d, err := time.ParseDuration(r[1:])
			if err != nil || spec.from.kind != boundTime {
				continue
			}
			spec.until = bound{boundTime, spec.from.n + d.Milliseconds()}
			return spec, nil
		}
		t, err := parseTimestamp(r, now)
		if err != nil {
			continue
		}
		spec.until = bound{boundTime, t}
		if spec.from.kind == boundTime && t < spec.from.n {
			return bad("the time range ends before it starts")
		}
		return spec, nil
	}
	return bad("not a timestamp or timestamp range")
}

// parseTimestamp returns unix milliseconds.
func parseTimestamp(s string, now time.Time) (int64, error) {
	if strings.HasPrefix(s, "-") {
		d, err := time.ParseDuration(s[1:])
		if err != nil {
			return 0, err
		}
		return now.Add(-d).UnixMilli(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if len(s) <= 10 {
			return n * 1000, nil
		}
		return n, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, fmt.Errorf("not a timestamp: %q", s)
}

// partitionOffsets is what resolve needs to know of one partition.
// fromTime/untilTime are the first offsets at or after the spec's
// timestamps (-1: none, i.e. the end).
type partitionOffsets struct {
	start, end          int64
	fromTime, untilTime int64
}

// resolve turns the spec into [from, until) for one partition; until -1
// means unbounded. ok is false when there is nothing to read.
func (s offsetSpec) resolve(p partitionOffsets) (from, until int64, ok bool) {
	clamp := func(o int64) int64 { return max(p.start, min(o, p.end)) }
	switch s.from.kind {
	case boundStart:
		from = p.start
	case boundEnd:
		from = p.end
	case boundExact:
		from = clamp(s.from.n) // past the end: wait at the end for it
	case boundAfterStart:
		from = clamp(p.start + s.from.n)
	case boundBeforeEnd:
		from = clamp(p.end - s.from.n)
	case boundTime:
		from = p.fromTime
		if from < 0 {
			from = p.end
		}
	}
	until = -1
	switch s.until.kind {
	case boundEnd:
		until = p.end
	case boundExact:
		until = s.until.n
	case boundTime:
		until = p.untilTime
		if until < 0 {
			until = p.end
		}
	}
	return from, until, until < 0 || from < until
}
