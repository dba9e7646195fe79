package topic

import (
	"fmt"

	"github.com/spf13/cobra"
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
			var rows []topicStatus
			for _, r := range rs.Sorted() {
				if r.Err == nil {
					rows = append(rows, ok(r.Topic))
					continue
				}
				err := topicErr(r.Topic, r.Err, r.ErrMessage)
				rows = append(rows, failedStatus(r.Topic, err))
			}
			return s.printStatuses(rows, "topics not changed")
		},
	}
	cmd.Flags().IntVarP(&num, "num", "n", 0, "number of partitions to add")
	return cmd
}
