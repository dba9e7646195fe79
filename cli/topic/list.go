package topic

import (
	"fmt"
	"os"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/ailurus/ailurus/cli/out"
)

func listCmd(s *shared) *cobra.Command {
	var (
		internal bool
		regex    bool
	)
	cmd := &cobra.Command{
		Use:     "list [PATTERN...]",
		Aliases: []string{"ls"},
		Short:   "List topics",
		RunE: func(cmd *cobra.Command, args []string) error {
			var res []*regexp.Regexp
			if regex {
				for _, a := range args {
					re, err := regexp.Compile(a)
					if err != nil {
						return fmt.Errorf("bad regular expression %q: %w", a, err)
					}
					res = append(res, re)
				}
			}
			_, cl, adm, err := s.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer cl.Close()
			var names []string
			if !regex {
				names = args
			}
			tds, err := adm.ListTopicsWithInternal(cmd.Context(), names...)
			if err != nil {
				return fmt.Errorf("listing topics: %w", err)
			}
			type row struct {
				Name       string `json:"name"`
				Partitions int    `json:"partitions"`
				Replicas   int    `json:"replicas"`
				Internal   bool   `json:"internal,omitempty"`
			}
			rows := []row{}
			for _, td := range tds.Sorted() {
				if td.Err != nil && !regex && len(names) > 0 {
					return topicErr(td.Topic, td.Err, "")
				}
				if td.IsInternal && !internal || td.Err != nil {
					continue
				}
				if len(res) > 0 && !matchAny(res, td.Topic) {
					continue
				}
				rf := 0
				if ps := td.Partitions.Sorted(); len(ps) > 0 {
					rf = len(ps[0].Replicas)
				}
				rows = append(rows, row{td.Topic, len(td.Partitions), rf, td.IsInternal})
			}
			if s.format.JSON() {
				return out.WriteJSON(os.Stdout, rows)
			}
			t := out.NewTable(os.Stdout, "name", "partitions", "replicas")
			for _, r := range rows {
				t.Row(r.Name, r.Partitions, r.Replicas)
			}
			return t.Flush()
		},
	}
	cmd.Flags().BoolVarP(&internal, "internal", "i", false, "include internal topics")
	cmd.Flags().BoolVarP(&regex, "regex", "r", false, "treat the arguments as regular expressions")
	return cmd
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}
