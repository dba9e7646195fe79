package tuner

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Severity says what a failed check means for the node.
type Severity int

const (
	// Warning: the node runs, slower or less safely.
	Warning Severity = iota
	// Fatal: the node cannot run as configured; `ailurus check` exits 1.
	Fatal
)

func (s Severity) String() string {
	if s == Fatal {
		return "Fatal"
	}
	return "Warning"
}

// State is one setting as read from the host.
type State struct {
	Current  string // what the host has now, as shown to the operator
	Required string // what Ailurus wants
	OK       bool   // Current satisfies Required
}

// Tuner reads one host setting and can set it to what Ailurus wants.
type Tuner struct {
	// Name is what `ailurus tune NAME` takes ("aio-max-nr").
	Name string
	// Aliases are rpk's names for the same tuner ("aio_events").
	Aliases []string
	// Condition is the row title in `ailurus check`.
	Condition string
	Severity  Severity
	// read returns the current state; ErrUnsupported when the host has no
	// such setting.
	read func(h *Host) (State, error)
	// apply changes the host to the required value.
	apply func(h *Host) error
	// hint says what the operator can do when apply gets ErrCannotWrite.
	hint func(h *Host) string
}

// All returns every tuner, in the order `tune all` runs them.
func All() []*Tuner {
	return []*Tuner{
		aioMaxNr(), swappiness(), transparentHugepages(), clocksource(),
		diskScheduler(), diskNomerges(), cpuGovernor(), ballastFile(), coredump(),
	}
}

// Select returns the tuners named, in All's order; "all" (or no name) is
// every tuner. An unknown name is an error that lists the known ones.
func Select(names []string) ([]*Tuner, error) {
	all := All()
	if len(names) == 0 || slices.Contains(names, "all") {
		return all, nil
	}
	var out []*Tuner
	var unknown []string
	for _, n := range names {
		i := slices.IndexFunc(all, func(t *Tuner) bool { return t.Name == n || slices.Contains(t.Aliases, n) })
		if i < 0 {
			unknown = append(unknown, n)
			continue
		}
		if !slices.Contains(out, all[i]) {
			out = append(out, all[i])
		}
	}
	if len(unknown) > 0 {
		known := make([]string, len(all))
		for i, t := range all {
			known[i] = t.Name
		}
		return nil, fmt.Errorf("unknown tuner %s (known: all, %s)", strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	slices.SortStableFunc(out, func(a, b *Tuner) int { return slices.Index(all, a) - slices.Index(all, b) })
	return out, nil
}

// Action is what Tune did with one tuner.
type Action string

const (
	ActionOK          Action = "ok"             // already as required
	ActionWouldChange Action = "would change"   // --dry-run
	ActionChanged     Action = "changed"        // written and read back
	ActionCannotWrite Action = "cannot write"   // see Hint
	ActionUnsupported Action = "not applicable" // the host has no such setting
	ActionFailed      Action = "failed"         // any other error
)

// Result is the outcome of one tuner.
type Result struct {
	Tuner  *Tuner
	Before State
	After  State // equal to Before unless ActionChanged
	Action Action
	Err    error
	// Hint tells the operator what to do by hand (ActionCannotWrite).
	Hint string
}

// Reason is r.Err for the operator: without the "not supported on this
// host" prefix that the action already says.
func (r Result) Reason() string {
	if r.Err == nil {
		return ""
	}
	return strings.TrimPrefix(r.Err.Error(), ErrUnsupported.Error()+": ")
}

// Failed reports whether the operator has something left to do.
func (r Result) Failed() bool {
	return r.Action == ActionCannotWrite || r.Action == ActionFailed
}

// Tune reads the setting, and unless dryRun changes it when needed and reads
// it back.
func Tune(h *Host, t *Tuner, dryRun bool) Result {
	st, err := t.read(h)
	r := Result{Tuner: t, Before: st, After: st}
	switch {
	case errors.Is(err, ErrUnsupported):
		r.Action, r.Err = ActionUnsupported, err
		return r
	case err != nil:
		r.Action, r.Err = ActionFailed, err
		return r
	case st.OK:
		r.Action = ActionOK
		return r
	case dryRun:
		r.Action = ActionWouldChange
		return r
	}
	if err := t.apply(h); err != nil {
		r.Err = err
		r.Action = ActionFailed
		if errors.Is(err, ErrCannotWrite) {
			r.Action = ActionCannotWrite
			r.Hint = t.hint(h)
		}
		return r
	}
	after, err := t.read(h)
	r.After = after
	switch {
	case err != nil:
		r.Action, r.Err = ActionFailed, fmt.Errorf("read back: %w", err)
	case !after.OK:
		r.Action, r.Err = ActionFailed, fmt.Errorf("wrote %q but the host still has %q", after.Required, after.Current)
	default:
		r.Action = ActionChanged
	}
	return r
}
