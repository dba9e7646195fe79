package cluster

import (
	"github.com/spf13/cobra"
)

func configCmd(s *shared) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Get, set, export, import and edit cluster properties",
	}
	cmd.AddCommand(configGetCmd(s), configSetCmd(s), configExportCmd(s),
		configImportCmd(s), configEditCmd(s), configStatusCmd(s))
	return cmd
}
