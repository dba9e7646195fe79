package cluster

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

func configImportCmd(s *shared) *cobra.Command {
	var (
		file string
		dry  bool
	)
	cmd := &cobra.Command{
		Use:   "import -f FILE",
		Short: "Apply a YAML cluster config: set what differs, reset what is left out",
		Example: `  ailurus cluster config export -f cluster.yaml
  $EDITOR cluster.yaml
  ailurus cluster config import -f cluster.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return fmt.Errorf("give the file to import with -f FILE (make one with `ailurus cluster config export -f FILE`)")
			}
			var data []byte
			var err error
			if file == "-" {
				data, err = io.ReadAll(os.Stdin)
			} else {
				data, err = os.ReadFile(file)
			}
			if err != nil {
				return fmt.Errorf("reading %s: %w", file, err)
			}
			adm, err := s.admin()
			if err != nil {
				return err
			}
			return applyFile(cmd.Context(), s, adm, data, dry, os.Stdout)
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "YAML file to apply (- for stdin)")
	cmd.Flags().BoolVar(&dry, "dry", false, "print the difference without applying it")
	return cmd
}
