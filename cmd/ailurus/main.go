// Command ailurus is the one binary of the node: `ailurus start` runs the
// agent, which re-executes this binary as `ailurus internal shard` for each
// shard. Every decision lives in a package; this file only wires them.
package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/ailurus/ailurus/cli"
	"github.com/ailurus/ailurus/cli/bench"
	"github.com/ailurus/ailurus/cli/tune"
)

// version and commit are set at build time (-ldflags -X).
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	root := &cobra.Command{
		Use:           "ailurus",
		Short:         "Kafka-compatible streaming engine: one binary, Raft inside, fsync before ack",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version + " (" + commit + ")",
	}
	root.AddCommand(startCmd(), internalCmd())
	root.AddCommand(cli.Commands()...)
	root.AddCommand(tune.Command(), tune.CheckCommand())
	root.AddCommand(bench.Command())
	if err := root.Execute(); err != nil {
		os.Stderr.WriteString("ailurus: " + err.Error() + "\n")
		os.Exit(1)
	}
}
