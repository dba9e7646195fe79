package cluster

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ailurus/ailurus/cli/out"
)

// ErrUnhealthy makes `cluster health` exit non-zero when a node is not ready or down.
var ErrUnhealthy = errors.New("cluster is not healthy")

func healthCmd(s *shared) *cobra.Command {
	return &cobra.Command{
		Use:   "health",
		Short: "Show whether the cluster is healthy: node readiness and brokers alive",
		Long: `Show whether the cluster is healthy: the admin API's /v1/status/ready on the
node asked, and every broker the controller knows with its liveness.
Exits 1 when the cluster is not healthy, so scripts can wait on it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			adm, err := s.admin()
			if err != nil {
				return err
			}
			status, err := adm.Ready(cmd.Context())
			if err != nil {
				return err
			}
			brokers, err := adm.Brokers(cmd.Context())
			if err != nil {
				return err
			}
			res := struct {
				Healthy bool    `json:"is_healthy"`
				Ready   string  `json:"ready_status"`
				Nodes   []int32 `json:"all_nodes"`
				Down    []int32 `json:"nodes_down"`
			}{Ready: status, Nodes: []int32{}, Down: []int32{}}
			for _, b := range brokers {
				res.Nodes = append(res.Nodes, b.NodeID)
				if b.IsAlive != nil && !*b.IsAlive {
					res.Down = append(res.Down, b.NodeID)
				}
			}
			res.Healthy = status == "ready" && len(res.Down) == 0 && len(res.Nodes) > 0
			if s.format.JSON() {
				out.WriteJSON(os.Stdout, res)
			} else {
				t := out.NewTable(os.Stdout)
				t.Row("Healthy:", res.Healthy)
				t.Row("Ready status:", res.Ready)
				t.Row("All nodes:", fmt.Sprint(res.Nodes))
				t.Row("Nodes down:", fmt.Sprint(res.Down))
				t.Flush()
			}
			if !res.Healthy {
				return fmt.Errorf("%w: ready status %q, nodes down %v: check the node logs (`journalctl -u ailurus`)", ErrUnhealthy, res.Ready, res.Down)
			}
			return nil
		},
	}
}
