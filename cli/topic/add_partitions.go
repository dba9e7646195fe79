package topic

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ailurus/ailurus/cli/out"
)

func addPartitionsCmd(s *shared) *cobra.Command {
	var num int
	cmd := &cobra.Command{
		Use:     "add-partitions TOPICS... -n N",
		Short:   "Add N partitions to topics",
		Example: `  ailurus topic add-partitions flights -n 3`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, topics []string) error {
			if num <= 0 {
				return fmt.Errorf("--num (-n) must be positive, got %d", num)
			}
			_, cl, adm, err := s.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer cl.Close()
			rs, err := adm.CreatePartitions(cmd.Context(), num, topics...)
			if err != nil {
				return fmt.Errorf("adding partitions: %w", err)
			}
			type row struct {
				Topic  string `json:"topic"`
				Status string `json:"status"`
			}
			var rows []row
			var failed []string
			for _, r := range rs.Sorted() {
				status := "OK"
				if r.Err != nil {
					status = topicErr(r.Topic, r.Err, r.ErrMessage).Error()
					failed = append(failed, status)
				}
				rows = append(rows, row{r.Topic, status})
			}
			if s.format.JSON() {
				out.WriteJSON(os.Stdout, rows)
			} else {
				t := out.NewTable(os.Stdout, "topic", "status")
				for _, r := range rows {
					t.Row(r.Topic, r.Status)
				}
				t.Flush()
			}
			if len(failed) > 0 {
				return partial("topics not changed", failed, len(rows))
			}
			return nil
		},
	}
	cmd.Flags().IntVarP(&num, "num", "n", 0, "number of partitions to add")
	return cmd
}
