package cluster

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ailurus/ailurus/cli/out"
)

func configStatusCmd(s *shared) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show each node's config version and properties it cannot apply",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			adm, err := s.admin()
			if err != nil {
				return err
			}
			st, err := adm.ClusterConfigStatus(cmd.Context())
			if err != nil {
				return err
			}
			if s.format.JSON() {
				return out.WriteJSON(os.Stdout, st)
			}
			t := out.NewTable(os.Stdout, "node", "config-version", "needs-restart", "invalid", "unknown")
			for _, n := range st {
				t.Row(n.NodeID, n.ConfigVersion, n.Restart, fmt.Sprint(n.Invalid), fmt.Sprint(n.Unknown))
			}
			return t.Flush()
		},
	}
}
