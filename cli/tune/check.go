package tune

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ailurus/ailurus/internal/config"
	"github.com/ailurus/ailurus/internal/tuner"
)

// ErrFatalCheck is returned by `ailurus check` when a Fatal check failed.
var ErrFatalCheck = errors.New("a fatal check failed")

// CheckCommand returns `ailurus check`.
func CheckCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check this host and the configuration for running Ailurus",
		Long: "Print Condition / Required / Current / Severity / Passed for the configuration,\n" +
			"the data directory (writable, free space, filesystem type), free memory per CPU and\n" +
			"every tuner's setting. Exits 1 when a Fatal check fails.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, cfgErr := hostFromConfig(cmd)
			return runCheck(cmd.OutOrStdout(), h, cfgErr)
		},
	}
	config.RegisterFlags(cmd.Flags())
	return cmd
}

func runCheck(w io.Writer, h *tuner.Host, cfgErr error) error {
	rows := tuner.Check(h, cfgErr)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONDITION\tREQUIRED\tCURRENT\tSEVERITY\tPASSED")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", r.Condition, r.Required, r.Current, r.Severity, r.Passed)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if tuner.FatalFailed(rows) {
		fmt.Fprintln(w, "\nSystem check results: FAILED (fatal)")
		if cfgErr != nil {
			fmt.Fprintf(w, "\nconfiguration problems:\n%v\n", cfgErr)
		}
		return ErrFatalCheck
	}
	fmt.Fprintln(w, "\nSystem check results: passed")
	return nil
}
