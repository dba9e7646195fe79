package group

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/ailurus/ailurus/cli/out"
)

func offsetDeleteCmd(s *shared) *cobra.Command {
	var topics []string
	cmd := &cobra.Command{
		Use:   "offset-delete GROUP --topic TOPIC[:P1,P2...]",
		Short: "Delete a group's committed offsets for topics or partitions",
		Example: `  ailurus group offset-delete readers --topic flights
  ailurus group offset-delete readers --topic flights:0,1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			group := args[0]
			if len(topics) == 0 {
				return fmt.Errorf("name what to delete with --topic TOPIC or --topic TOPIC:0,1")
			}
			ctx := cmd.Context()
			cl, adm, err := s.connect(ctx)
			if err != nil {
				return err
			}
			defer cl.Close()
			set := kadm.TopicsSet{}
			var whole []string
			for _, tp := range topics {
				t, ps, hasParts := strings.Cut(tp, ":")
				if set[t] == nil {
					set[t] = map[int32]struct{}{}
				}
				if !hasParts {
					whole = append(whole, t)
					continue
				}
				for _, p := range strings.Split(ps, ",") {
					n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
					if err != nil || n < 0 {
						return fmt.Errorf("--topic %q: partitions are numbers, e.g. %s:0,1", tp, t)
					}
					set[t][int32(n)] = struct{}{}
				}
			}
			if len(whole) > 0 {
				// A whole topic: every partition the group has an offset for.
				prior, err := adm.FetchOffsets(ctx, group)
				if err != nil {
					return fmt.Errorf("fetching the offsets of %s: %w", group, err)
				}
				for _, t := range whole {
					prior.Each(func(o kadm.OffsetResponse) {
						if o.Topic == t {
							set[t][o.Partition] = struct{}{}
						}
					})
					if len(set[t]) == 0 {
						return fmt.Errorf("group %s has no committed offsets for %s: see `ailurus group describe %s`", group, t, group)
					}
				}
			}
			rs, err := adm.DeleteOffsets(ctx, group, set)
			if err != nil {
				return fmt.Errorf("deleting offsets of %s: %w (a group still consuming a topic cannot lose its offsets: stop its consumers first)", group, err)
			}
			type row struct {
				Topic     string `json:"topic"`
				Partition int32  `json:"partition"`
				Status    string `json:"status"`
			}
			var rows []row
			var failed int
			for t, ps := range rs {
				for p, perr := range ps {
					status := "OK"
					if perr != nil {
						failed++
						status = perr.Error()
					}
					rows = append(rows, row{t, p, status})
				}
			}
			sort.Slice(rows, func(i, j int) bool {
				return rows[i].Topic < rows[j].Topic || rows[i].Topic == rows[j].Topic && rows[i].Partition < rows[j].Partition
			})
			if s.format.JSON() {
				out.WriteJSON(os.Stdout, rows)
			} else {
				t := out.NewTable(os.Stdout, "topic", "partition", "status")
				for _, r := range rows {
					t.Row(r.Topic, r.Partition, r.Status)
				}
				t.Flush()
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d offsets of %s not deleted (see the table above; GROUP_SUBSCRIBED_TO_TOPIC: stop its consumers first)", failed, len(rows), group)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&topics, "topic", "t", nil, "topic, or topic:partitions, whose offsets to delete (repeatable)")
	return cmd
}
