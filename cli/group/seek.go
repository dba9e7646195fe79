package group

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/ailurus/ailurus/cli/out"
)

func seekCmd(s *shared) *cobra.Command {
	var (
		to      string
		toGroup string
		topics  []string
	)
	cmd := &cobra.Command{
		Use:   "seek GROUP --to start|end|TIMESTAMP_MS | --to-group OTHER",
		Short: "Move a group's committed offsets (the group must have no active members)",
		Example: `  ailurus group seek readers --to start
  ailurus group seek readers --to 1700000000000 --topics flights
  ailurus group seek readers --to-group other-readers`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			group := args[0]
			if (to == "") == (toGroup == "") {
				return fmt.Errorf("give exactly one of --to (start, end or a timestamp in ms) and --to-group")
			}
			var ts int64 = -1
			if to != "" && to != "start" && to != "end" {
				n, err := strconv.ParseInt(to, 10, 64)
				if err != nil || n < 0 {
					return fmt.Errorf("--to %q: want start, end or a unix timestamp in milliseconds", to)
				}
				ts = n
			}
			ctx := cmd.Context()
			cl, adm, err := s.connect(ctx)
			if err != nil {
				return err
			}
			defer cl.Close()
			prior, err := adm.FetchOffsets(ctx, group)
			if err != nil {
				return fmt.Errorf("fetching the offsets of %s: %w", group, err)
			}
			if len(topics) == 0 {
				seen := map[string]bool{}
				prior.Each(func(o kadm.OffsetResponse) {
					if !seen[o.Topic] {
						seen[o.Topic] = true
						topics = append(topics, o.Topic)
					}
				})
				if len(topics) == 0 && toGroup == "" {
					return fmt.Errorf("group %s has no committed offsets: name the topics with --topics", group)
				}
			}
			var target kadm.Offsets
			if toGroup != "" {
				other, err := adm.FetchOffsets(ctx, toGroup)
				if err != nil {
					return fmt.Errorf("fetching the offsets of %s: %w", toGroup, err)
				}
				target = other.Offsets()
				if len(target) == 0 {
					return fmt.Errorf("group %s has no committed offsets to copy: see `ailurus group list`", toGroup)
				}
			} else {
				var listed kadm.ListedOffsets
				switch {
				case to == "start":
					listed, err = adm.ListStartOffsets(ctx, topics...)
				case to == "end":
					listed, err = adm.ListEndOffsets(ctx, topics...)
				default:
					listed, err = adm.ListOffsetsAfterMilli(ctx, ts, topics...)
				}
				if err != nil {
					return fmt.Errorf("listing offsets: %w", err)
				}
				if err := listed.Error(); err != nil {
					if errors.Is(err, kerr.UnknownTopicOrPartition) {
						return fmt.Errorf("%w: a topic in %v does not exist: see `ailurus topic list`", err, topics)
					}
					return fmt.Errorf("listing offsets: %w", err)
				}
				target = listed.Offsets()
			}
			committed, err := adm.CommitOffsets(ctx, group, target)
			if err != nil {
				return fmt.Errorf("committing offsets for %s: %w", group, err)
			}
			type row struct {
				Topic     string `json:"topic"`
				Partition int32  `json:"partition"`
				Prior     int64  `json:"prior_offset"`
				Current   int64  `json:"current_offset"`
				Error     string `json:"error,omitempty"`
			}
			var rows []row
			var failed error
			for _, c := range committed.Sorted() {
				r := row{Topic: c.Topic, Partition: c.Partition, Prior: -1, Current: c.At}
				if p, ok := prior.Lookup(c.Topic, c.Partition); ok && p.Err == nil {
					r.Prior = p.At
				}
				if c.Err != nil {
					r.Error = c.Err.Error()
					failed = c.Err
				}
				rows = append(rows, r)
			}
			if s.format.JSON() {
				out.WriteJSON(os.Stdout, rows)
			} else {
				t := out.NewTable(os.Stdout, "topic", "partition", "prior-offset", "current-offset", "error")
				for _, r := range rows {
					t.Row(r.Topic, r.Partition, r.Prior, r.Current, r.Error)
				}
				t.Flush()
			}
			if failed != nil {
				return fmt.Errorf("seeking %s: %w (a group with active members cannot be moved: stop its consumers first)", group, failed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "start, end, or a unix timestamp in milliseconds")
	cmd.Flags().StringVar(&toGroup, "to-group", "", "copy the committed offsets of this group")
	cmd.Flags().StringSliceVar(&topics, "topics", nil, "topics to move (default: those the group has offsets for)")
	return cmd
}
