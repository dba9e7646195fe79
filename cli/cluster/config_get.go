package cluster

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/ailurus/ailurus/cli/out"
)

func configGetCmd(s *shared) *cobra.Command {
	return &cobra.Command{
		Use:     "get KEY",
		Short:   "Print one cluster property's value",
		Example: `  ailurus cluster config get default_topic_partitions`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			adm, err := s.admin()
			if err != nil {
				return err
			}
			v, err := adm.ClusterConfigKey(cmd.Context(), args[0])
			if err != nil {
				return fmt.Errorf("%w (list every property with `ailurus cluster config export`)", err)
			}
			if s.format.JSON() {
				return out.WriteJSON(os.Stdout, map[string]any{args[0]: v})
			}
			fmt.Println(scalarText(v))
			return nil
		},
	}
}

// scalarText prints a value as a person types it: scalars bare, null as
// "null", anything else as one-line YAML.
func scalarText(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return fmt.Sprint(v)
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
