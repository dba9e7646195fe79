// Package cli gathers the operator commands (`ailurus topic ...`,
// `ailurus group ...`, `ailurus cluster ...`) for cmd/ailurus to register. Each noun is its own
// package under cli/, one file per verb, as rpk is laid out.
package cli

import (
	"github.com/spf13/cobra"

	"github.com/ailurus/ailurus/cli/cluster"
	"github.com/ailurus/ailurus/cli/group"
	"github.com/ailurus/ailurus/cli/topic"
)

// Commands returns the operator commands, fresh on every call.
func Commands() []*cobra.Command {
	return []*cobra.Command{topic.Command(), group.Command(), cluster.Command()}
}
