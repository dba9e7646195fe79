package topic

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/ailurus/ailurus/cli/out"
)

func createCmd(s *shared) *cobra.Command {
	var (
		partitions  int32
		replicas    int16
		configs     []string
		dry         bool
		ifNotExists bool
	)
	cmd := &cobra.Command{
		Use:   "create TOPICS...",
		Short: "Create topics",
		Example: `  ailurus topic create flights
  ailurus topic create flights -p 6 -c retention.ms=86400000 -c cleanup.policy=compact`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, topics []string) error {
			cm, err := parseKVs("-c", configs)
			if err != nil {
				return err
			}
			_, cl, adm, err := s.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer cl.Close()
			create := adm.CreateTopics
			if dry {
				create = adm.ValidateCreateTopics
			}
			rs, err := create(cmd.Context(), partitions, replicas, cm, topics...)
			if err != nil {
				return fmt.Errorf("creating topics: %w", err)
			}
			type row struct {
				Topic      string `json:"topic"`
				Partitions int32  `json:"partitions,omitempty"`
				Status     string `json:"status"`
			}
			var rows []row
			var failed []string
			for _, r := range rs.Sorted() {
				status := "OK"
				switch {
				case r.Err == nil:
				case ifNotExists && errors.Is(r.Err, kerr.TopicAlreadyExists):
					status = "OK (already exists)"
				case errors.Is(r.Err, kerr.TopicAlreadyExists):
					status = fmt.Sprintf("TOPIC_ALREADY_EXISTS: describe it with `ailurus topic describe %s`", r.Topic)
				default:
					status = r.Err.Error()
					if r.ErrMessage != "" {
						status += ": " + r.ErrMessage
					}
				}
				if dry && r.Err == nil {
					status = "OK (dry run, not created)"
				}
				if r.Err != nil && !(ifNotExists && errors.Is(r.Err, kerr.TopicAlreadyExists)) {
					failed = append(failed, r.Topic+": "+status)
				}
				rows = append(rows, row{r.Topic, r.NumPartitions, status})
			}
			if s.format.JSON() {
				if err := out.WriteJSON(os.Stdout, rows); err != nil {
					return err
				}
			} else {
				t := out.NewTable(os.Stdout, "topic", "status")
				for _, r := range rows {
					t.Row(r.Topic, r.Status)
				}
				t.Flush()
			}
			if len(failed) > 0 {
				return partial("topics not created", failed, len(rows))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.Int32VarP(&partitions, "partitions", "p", -1, "partitions per topic (-1: the cluster default)")
	f.Int16VarP(&replicas, "replicas", "r", -1, "replication factor (-1: the cluster default)")
	f.StringArrayVarP(&configs, "topic-config", "c", nil, "topic config key=value (repeatable)")
	f.BoolVarP(&dry, "dry", "d", false, "validate the request without creating the topics")
	f.BoolVar(&ifNotExists, "if-not-exists", false, "succeed when the topic already exists")
	return cmd
}
