package group

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/ailurus/ailurus/cli/out"
)

func deleteCmd(s *shared) *cobra.Command {
	return &cobra.Command{
		Use:   "delete GROUPS...",
		Short: "Delete groups and their committed offsets (groups must have no active members)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, groups []string) error {
			cl, adm, err := s.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer cl.Close()
			rs, err := adm.DeleteGroups(cmd.Context(), groups...)
			if err != nil {
				return fmt.Errorf("deleting groups: %w", err)
			}
			type row struct {
				Group  string `json:"group"`
				Status string `json:"status"`
			}
			var rows []row
			var failed []string
			for _, r := range rs.Sorted() {
				status := "OK"
				switch {
				case r.Err == nil:
				case errors.Is(r.Err, kerr.GroupIDNotFound):
					status = noGroup(r.Group).Error()
				case errors.Is(r.Err, kerr.NonEmptyGroup):
					status = fmt.Sprintf("group %s has active members: stop its consumers first", r.Group)
				default:
					status = r.Err.Error()
				}
				if r.Err != nil {
					failed = append(failed, status)
				}
				rows = append(rows, row{r.Group, status})
			}
			if s.format.JSON() {
				out.WriteJSON(os.Stdout, rows)
			} else {
				t := out.NewTable(os.Stdout, "group", "status")
				for _, r := range rows {
					t.Row(r.Group, r.Status)
				}
				t.Flush()
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d groups not deleted:\n  %s", len(failed), len(rows), strings.Join(failed, "\n  "))
			}
			return nil
		},
	}
}
