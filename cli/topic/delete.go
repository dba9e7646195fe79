package topic

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
)

func deleteCmd(s *shared) *cobra.Command {
	var regex bool
	cmd := &cobra.Command{
		Use:   "delete TOPICS...",
		Short: "Delete topics, by name or with -r by regular expression",
		Example: `  ailurus topic delete flights
  ailurus topic delete -r '^test-.*'`,
		Args: cobra.MinimumNArgs(1),
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
			topics := args
			if regex {
				tds, err := adm.ListTopics(cmd.Context())
				if err != nil {
					return fmt.Errorf("listing topics: %w", err)
				}
				topics = nil
				for _, name := range tds.Names() {
					if matchAny(res, name) {
						topics = append(topics, name)
					}
				}
				if len(topics) == 0 {
					return fmt.Errorf("no topic matches %q: see `ailurus topic list`", args)
				}
			}
			rs, err := adm.DeleteTopics(cmd.Context(), topics...)
			if err != nil {
				return fmt.Errorf("deleting topics: %w", err)
			}
			var rows []topicStatus
			for _, r := range rs.Sorted() {
				if r.Err == nil {
					rows = append(rows, ok(r.Topic))
					continue
				}
				err := topicErr(r.Topic, r.Err, r.ErrMessage)
				if errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
					err = fmt.Errorf("topic %s does not exist: see `ailurus topic list`", r.Topic)
				}
				rows = append(rows, failedStatus(r.Topic, err))
			}
			return s.printStatuses(rows, "topics not deleted")
		},
	}
	cmd.Flags().BoolVarP(&regex, "regex", "r", false, "treat the arguments as regular expressions")
	return cmd
}
