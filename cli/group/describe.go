package group

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/ailurus/ailurus/cli/out"
)

// partitionLag is one partition of a group, as describe shows it.
type partitionLag struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Committed int64  `json:"current_offset"`
	End       int64  `json:"log_end_offset"`
	Lag       int64  `json:"lag"`
	Member    string `json:"member_id,omitempty"`
	Client    string `json:"client_id,omitempty"`
	Host      string `json:"host,omitempty"`
}

type groupInfo struct {
	Group       string         `json:"group"`
	Coordinator int32          `json:"coordinator"`
	State       string         `json:"state"`
	Members     int            `json:"members"`
	TotalLag    int64          `json:"total_lag"`
	Partitions  []partitionLag `json:"partitions"`
}

func describeCmd(s *shared) *cobra.Command {
	return &cobra.Command{
		Use:   "describe GROUPS...",
		Short: "Describe groups: state, members, and committed offset and lag per partition",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, groups []string) error {
			cl, adm, err := s.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer cl.Close()
			lags, err := adm.Lag(cmd.Context(), groups...)
			if err != nil {
				return fmt.Errorf("describing groups: %w", err)
			}
			var infos []groupInfo
			for _, g := range groups {
				l, ok := lags[g]
				if !ok {
					return noGroup(g)
				}
				if l.DescribeErr != nil {
					if errorsIsGroupMissing(l.DescribeErr) {
						return noGroup(g)
					}
					return fmt.Errorf("describing %s: %w", g, l.DescribeErr)
				}
				if l.FetchErr != nil {
					return fmt.Errorf("fetching the offsets of %s: %w", g, l.FetchErr)
				}
				if l.State == "Dead" && len(l.Lag) == 0 {
					return noGroup(g)
				}
				gi := groupInfo{Group: g, Coordinator: l.Coordinator.NodeID, State: l.State, Members: len(l.Members), Partitions: []partitionLag{}}
				for _, ml := range l.Lag.Sorted() {
					pl := partitionLag{Topic: ml.Topic, Partition: ml.Partition, Committed: ml.Commit.At, End: ml.End.Offset, Lag: ml.Lag}
					if ml.Member != nil {
						pl.Member, pl.Client, pl.Host = ml.Member.MemberID, ml.Member.ClientID, ml.Member.ClientHost
					}
					if ml.Lag > 0 {
						gi.TotalLag += ml.Lag
					}
					gi.Partitions = append(gi.Partitions, pl)
				}
				infos = append(infos, gi)
			}
			if s.format.JSON() {
				return out.WriteJSON(os.Stdout, infos)
			}
			for i, gi := range infos {
				if i > 0 {
					fmt.Println()
				}
				t := out.NewTable(os.Stdout)
				t.Row("GROUP", gi.Group)
				t.Row("COORDINATOR", gi.Coordinator)
				t.Row("STATE", gi.State)
				t.Row("MEMBERS", gi.Members)
				t.Row("TOTAL-LAG", gi.TotalLag)
				t.Flush()
				fmt.Println()
				t = out.NewTable(os.Stdout, "topic", "partition", "current-offset", "log-end-offset", "lag", "member-id", "client-id", "host")
				for _, p := range gi.Partitions {
					t.Row(p.Topic, p.Partition, p.Committed, p.End, p.Lag, p.Member, p.Client, p.Host)
				}
				t.Flush()
			}
			return nil
		},
	}
}

func errorsIsGroupMissing(err error) bool { return errors.Is(err, kerr.GroupIDNotFound) }
