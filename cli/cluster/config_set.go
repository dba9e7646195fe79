package cluster

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ailurus/ailurus/cli/out"
)

func configSetCmd(s *shared) *cobra.Command {
	return &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Set one cluster property (VALUE null resets a nullable one to null)",
		Example: `  ailurus cluster config set default_topic_partitions 3
  ailurus cluster config set log_retention_ms null`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			adm, err := s.admin()
			if err != nil {
				return err
			}
			// The node parses the text form with the property's own rules.
			var v any = args[1]
			if args[1] == "null" {
				v = nil
			}
			version, err := adm.PatchClusterConfig(cmd.Context(), map[string]any{args[0]: v}, nil)
			if err != nil {
				return err
			}
			if s.format.JSON() {
				return out.WriteJSON(os.Stdout, map[string]any{"config_version": version})
			}
			fmt.Printf("Successfully updated configuration. New configuration version is %d.\n", version)
			return nil
		},
	}
}
