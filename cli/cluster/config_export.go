package cluster

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func configExportCmd(s *shared) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the cluster config as YAML (to stdout, or -f FILE)",
		Example: `  ailurus cluster config export -f cluster.yaml
  ailurus cluster config export > cluster.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			adm, err := s.admin()
			if err != nil {
				return err
			}
			props, err := adm.ClusterConfig(cmd.Context(), false)
			if err != nil {
				return err
			}
			data, err := encodeYAML(props)
			if err != nil {
				return err
			}
			if file == "" || file == "-" {
				_, err = os.Stdout.Write(data)
				return err
			}
			if err := os.WriteFile(file, data, 0o644); err != nil {
				return fmt.Errorf("writing %s: %w", file, err)
			}
			fmt.Fprintf(os.Stderr, "wrote %d properties to %s\n", len(props), file)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "file to write (default stdout)")
	return cmd
}
