// Package tune is `ailurus tune [--dry-run] [TUNER...]` and `ailurus check`:
// the operator's view of internal/tuner. ailurus-tuner.service runs
// `ailurus tune all` as root before the node starts.
package tune

import (
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ailurus/ailurus/internal/config"
	"github.com/ailurus/ailurus/internal/tuner"
)

// ErrSomeFailed is returned when a tuner could not apply its change; the
// output already said which and what to do.
var ErrSomeFailed = errors.New("some tuners could not be applied")

// Command returns `ailurus tune`.
func Command() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "tune [--dry-run] [TUNER...|all]",
		Short: "Tune this host for Ailurus (needs root)",
		Long: "Read each host setting Ailurus cares about, say what it would change, and change it\n" +
			"unless --dry-run. With no TUNER, or `all`, run every tuner. A tuner that cannot\n" +
			"write (not root, read-only /proc/sys or /sys in a container) says what to run\n" +
			"instead; the command then exits 1.\n\nTuners: " + tunerNames() + "\n" +
			"(rpk's names are accepted too: aio_events, cpu, disk_scheduler, ...)",
		RunE: func(cmd *cobra.Command, args []string) error {
			ts, err := tuner.Select(args)
			if err != nil {
				return err
			}
			h, err := hostFromConfig(cmd)
			if err != nil {
				return err
			}
			return runTune(cmd.OutOrStdout(), h, ts, dryRun)
		},
	}
	config.RegisterFlags(cmd.Flags())
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would change, change nothing")
	return cmd
}

func tunerNames() string {
	s := ""
	for i, t := range tuner.All() {
		if i > 0 {
			s += ", "
		}
		s += t.Name
	}
	return s
}

// hostFromConfig builds the real host with the data directory of the
// node's configuration (the same file, env and flags `ailurus start` reads).
// An invalid configuration still tunes the default data directory's disk.
func hostFromConfig(cmd *cobra.Command) (*tuner.Host, error) {
	dataDir := config.DefaultDataDirectory
	cfg, err := config.Load(config.LoadOptions{Getenv: os.Getenv, Flags: cmd.Flags()})
	if err == nil {
		dataDir = cfg.DataDirectory
	}
	return tuner.NewHost(dataDir), err
}

func runTune(w io.Writer, h *tuner.Host, ts []*tuner.Tuner, dryRun bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TUNER\tCURRENT\tREQUIRED\tRESULT")
	var failed []tuner.Result
	for _, t := range ts {
		r := tuner.Tune(h, t, dryRun)
		result := string(r.Action)
		if r.Action == tuner.ActionUnsupported || r.Action == tuner.ActionFailed {
			result += ": " + r.Reason()
		}
		cur := r.Before.Current
		if cur == "" {
			cur = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, cur, r.Before.Required, result)
		if r.Failed() {
			failed = append(failed, r)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range failed {
		fmt.Fprintf(w, "\n%s: %v\n", r.Tuner.Name, r.Err)
		if r.Hint != "" {
			fmt.Fprintf(w, "  what to do: %s\n", r.Hint)
		}
	}
	if len(failed) > 0 {
		return ErrSomeFailed
	}
	return nil
}
