package cluster

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"
)

func configEditCmd(s *shared) *cobra.Command {
	return &cobra.Command{
		Use:   "edit",
		Short: "Edit the cluster config in $EDITOR and apply the difference",
		Long: `Write the cluster config to a temporary YAML file, open it in $EDITOR (or
$VISUAL), and when the editor exits apply what changed: changed values are
set, properties deleted from the file go back to their defaults.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			editor := os.Getenv("VISUAL")
			if editor == "" {
				editor = os.Getenv("EDITOR")
			}
			if editor == "" {
				return fmt.Errorf("no editor: set $EDITOR (e.g. EDITOR=vi), or use `ailurus cluster config export -f FILE` and `import -f FILE`")
			}
			adm, err := s.admin()
			if err != nil {
				return err
			}
			props, err := adm.ClusterConfig(cmd.Context(), false)
			if err != nil {
				return err
			}
			before, err := encodeYAML(props)
			if err != nil {
				return err
			}
			dir, err := os.MkdirTemp("", "ailurus-config-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			path := filepath.Join(dir, "cluster.yaml")
			if err := os.WriteFile(path, before, 0o600); err != nil {
				return err
			}
			// Through the shell, so EDITOR="code --wait" works.
			ed := exec.CommandContext(cmd.Context(), "/bin/sh", "-c", editor+` "$1"`, "editor", path)
			ed.Stdin, ed.Stdout, ed.Stderr = os.Stdin, os.Stdout, os.Stderr
			if err := ed.Run(); err != nil {
				return fmt.Errorf("editor %q failed: %w (nothing was changed)", editor, err)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if bytes.Equal(before, after) {
				fmt.Println("No changes.")
				return nil
			}
			return applyFile(cmd.Context(), s, adm, after, false, os.Stdout)
		},
	}
}
