// Package cluster holds `ailurus cluster`: info (Kafka metadata), health
// (admin API readiness and brokers) and config get/set/export/import/edit/
// status over the admin API's /v1/cluster_config. One file per verb.
package cluster

import (
	"github.com/spf13/cobra"

	"github.com/ailurus/ailurus/cli/adminapi"
	"github.com/ailurus/ailurus/cli/config"
	"github.com/ailurus/ailurus/cli/out"
)

// shared is what every verb of the noun sees.
type shared struct {
	conn   *config.Flags
	format *out.Format
}

// Command returns `ailurus cluster` with its verbs.
func Command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Inspect the cluster and change its configuration",
	}
	s := &shared{
		conn:   config.AddFlags(cmd.PersistentFlags()),
		format: out.AddFlag(cmd.PersistentFlags()),
	}
	cmd.AddCommand(infoCmd(s), healthCmd(s), configCmd(s))
	return cmd
}

// admin loads the config and returns an admin API client.
func (s *shared) admin() (*adminapi.Client, error) {
	cfg, err := s.conn.Load()
	if err != nil {
		return nil, err
	}
	return adminapi.New(cfg)
}
