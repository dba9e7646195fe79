package topic

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/ailurus/ailurus/cli/out"
)

func trimPrefixCmd(s *shared) *cobra.Command {
	var (
		partitions []int32
		offset     int64
	)
	cmd := &cobra.Command{
		Use:   "trim-prefix TOPIC -o OFFSET [-p PARTITIONS]",
		Short: "Delete records below an offset (DeleteRecords): the log start moves up",
		Example: `  ailurus topic trim-prefix flights -p 0 -o 1000
  ailurus topic trim-prefix flights -o -1     # everything, in every partition`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			topic := args[0]
			if !cmd.Flags().Changed("offset") {
				return fmt.Errorf("give the offset to trim to with -o (-1: the high watermark)")
			}
			if offset < -1 {
				return fmt.Errorf("-o %d: want an offset >= 0, or -1 for the high watermark", offset)
			}
			ctx := cmd.Context()
			_, cl, adm, err := s.connect(ctx)
			if err != nil {
				return err
			}
			defer cl.Close()
			tds, err := adm.ListTopics(ctx, topic)
			if err != nil {
				return fmt.Errorf("looking up %s: %w", topic, err)
			}
			td, ok := tds[topic]
			if !ok || td.Err != nil {
				return noTopic(topic)
			}
			if len(partitions) == 0 {
				for p := range td.Partitions {
					partitions = append(partitions, p)
				}
			}
			offs := kadm.Offsets{}
			for _, p := range partitions {
				if _, ok := td.Partitions[p]; !ok {
					return fmt.Errorf("partition %d does not exist: %s has %d partitions (0..%d)", p, topic, len(td.Partitions), len(td.Partitions)-1)
				}
				offs.Add(kadm.Offset{Topic: topic, Partition: p, At: offset})
			}
			rs, err := adm.DeleteRecords(ctx, offs)
			if err != nil {
				return fmt.Errorf("deleting records: %w", err)
			}
			return printTrim(s, rs)
		},
	}
	cmd.Flags().Int32SliceVarP(&partitions, "partitions", "p", nil, "partitions to trim (default: all)")
	cmd.Flags().Int64VarP(&offset, "offset", "o", 0, "new log start offset (-1: the high watermark)")
	return cmd
}

func printTrim(s *shared, rs kadm.DeleteRecordsResponses) error {
	type row struct {
		Partition      int32  `json:"partition"`
		NewStartOffset int64  `json:"new_start_offset"`
		Error          string `json:"error,omitempty"`
	}
	var rows []row
	var failed []string
	for _, r := range rs.Sorted() {
		rw := row{Partition: r.Partition, NewStartOffset: r.LowWatermark}
		if r.Err != nil {
			rw.Error = r.Err.Error()
			failed = append(failed, fmt.Sprintf("partition %d: %v", r.Partition, r.Err))
			rw.NewStartOffset = -1
		}
		rows = append(rows, rw)
	}
	if s.format.JSON() {
		out.WriteJSON(os.Stdout, rows)
	} else {
		t := out.NewTable(os.Stdout, "partition", "new-start-offset", "error")
		for _, r := range rows {
			t.Row(r.Partition, r.NewStartOffset, r.Error)
		}
		t.Flush()
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w\n(an offset above the high watermark is OFFSET_OUT_OF_RANGE; see the offsets with `ailurus topic describe`)", partial("partitions not trimmed", failed, len(rows)))
	}
	return nil
}
