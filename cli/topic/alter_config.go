package topic

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

func alterConfigCmd(s *shared) *cobra.Command {
	var (
		set []string
		del []string
		dry bool
	)
	cmd := &cobra.Command{
		Use:   "alter-config TOPICS... --set key=value --delete key",
		Short: "Set or delete topic configs (incrementally)",
		Example: `  ailurus topic alter-config flights --set retention.ms=3600000
  ailurus topic alter-config flights --delete retention.ms`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, topics []string) error {
			if len(set) == 0 && len(del) == 0 {
				return fmt.Errorf("nothing to change: give --set key=value or --delete key")
			}
			sets, err := parseKVs("--set", set)
			if err != nil {
				return err
			}
			var alters []kadm.AlterConfig
			for k, v := range sets {
				alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: v})
			}
			for _, k := range del {
				alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
			}
			_, cl, adm, err := s.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer cl.Close()
			alter := adm.AlterTopicConfigs
			if dry {
				alter = adm.ValidateAlterTopicConfigs
			}
			rs, err := alter(cmd.Context(), alters, topics...)
			if err != nil {
				return fmt.Errorf("altering topic configs: %w", err)
			}
			var rows []topicStatus
			for _, r := range rs {
				if r.Err == nil {
					rows = append(rows, ok(r.Name))
					continue
				}
				err := topicErr(r.Name, r.Err, r.ErrMessage)
				rows = append(rows, failedStatus(r.Name, err))
			}
			return s.printStatuses(rows, "topics not altered")
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&set, "set", "s", nil, "config to set, key=value (repeatable)")
	f.StringArrayVarP(&del, "delete", "d", nil, "config to delete, back to its default (repeatable)")
	f.BoolVar(&dry, "dry", false, "validate without changing anything")
	return cmd
}
