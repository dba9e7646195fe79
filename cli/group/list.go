package group

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ailurus/ailurus/cli/out"
)

func listCmd(s *shared) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List consumer groups",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, adm, err := s.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer cl.Close()
			gs, err := adm.ListGroups(cmd.Context())
			if err != nil {
				return fmt.Errorf("listing groups: %w", err)
			}
			type row struct {
				Group       string `json:"group"`
				Coordinator int32  `json:"coordinator"`
				State       string `json:"state"`
			}
			rows := []row{}
			for _, g := range gs.Sorted() {
				rows = append(rows, row{g.Group, g.Coordinator, g.State})
			}
			if s.format.JSON() {
				return out.WriteJSON(os.Stdout, rows)
			}
			t := out.NewTable(os.Stdout, "group", "coordinator", "state")
			for _, r := range rows {
				t.Row(r.Group, r.Coordinator, r.State)
			}
			return t.Flush()
		},
	}
}
