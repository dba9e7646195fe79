package topic

import (
	"fmt"
	"os"
	"sort"

	"github.com/spf13/cobra"

	"github.com/ailurus/ailurus/cli/out"
)

// partitionInfo is one partition as describe shows it.
type partitionInfo struct {
	Partition     int32   `json:"partition"`
	Leader        int32   `json:"leader"`
	Epoch         int32   `json:"epoch"`
	Replicas      []int32 `json:"replicas"`
	LogStart      int64   `json:"log_start_offset"`
	HighWatermark int64   `json:"high_watermark"`
}

type configInfo struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

type topicInfo struct {
	Name       string          `json:"name"`
	Internal   bool            `json:"internal"`
	Partitions []partitionInfo `json:"partitions"`
	Configs    []configInfo    `json:"configs"`
}

func describeCmd(s *shared) *cobra.Command {
	var summary, configs, partitions bool
	cmd := &cobra.Command{
		Use:   "describe TOPICS...",
		Short: "Describe topics: partitions with leaders and offsets, and configs",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, topics []string) error {
			ctx := cmd.Context()
			_, cl, adm, err := s.connect(ctx)
			if err != nil {
				return err
			}
			defer cl.Close()
			tds, err := adm.ListTopicsWithInternal(ctx, topics...)
			if err != nil {
				return fmt.Errorf("describing topics: %w", err)
			}
			for _, name := range topics {
				td, ok := tds[name]
				if !ok {
					return noTopic(name)
				}
				if td.Err != nil {
					return topicErr(name, td.Err, "")
				}
			}
			starts, err := adm.ListStartOffsets(ctx, topics...)
			if err != nil {
				return fmt.Errorf("listing start offsets: %w", err)
			}
			ends, err := adm.ListEndOffsets(ctx, topics...)
			if err != nil {
				return fmt.Errorf("listing end offsets: %w", err)
			}
			rcs, err := adm.DescribeTopicConfigs(ctx, topics...)
			if err != nil {
				return fmt.Errorf("describing topic configs: %w", err)
			}
			var infos []topicInfo
			for _, name := range topics {
				td := tds[name]
				ti := topicInfo{Name: name, Internal: td.IsInternal, Partitions: []partitionInfo{}, Configs: []configInfo{}}
				for _, p := range td.Partitions.Sorted() {
					pi := partitionInfo{Partition: p.Partition, Leader: p.Leader, Epoch: p.LeaderEpoch, Replicas: p.Replicas, LogStart: -1, HighWatermark: -1}
					if o, ok := starts.Lookup(name, p.Partition); ok && o.Err == nil {
						pi.LogStart = o.Offset
					}
					if o, ok := ends.Lookup(name, p.Partition); ok && o.Err == nil {
						pi.HighWatermark = o.Offset
					}
					ti.Partitions = append(ti.Partitions, pi)
				}
				for _, rc := range rcs {
					if rc.Name != name || rc.Err != nil {
						continue
					}
					for _, c := range rc.Configs {
						v := c.MaybeValue()
						if c.Sensitive {
							v = "(sensitive)"
						}
						ti.Configs = append(ti.Configs, configInfo{c.Key, v, c.Source.String()})
					}
				}
				sort.Slice(ti.Configs, func(i, j int) bool { return ti.Configs[i].Key < ti.Configs[j].Key })
				infos = append(infos, ti)
			}
			if s.format.JSON() {
				return out.WriteJSON(os.Stdout, infos)
			}
			if !summary && !configs && !partitions {
				summary, configs, partitions = true, true, true
			}
			for i, ti := range infos {
				if i > 0 {
					fmt.Println()
				}
				printDescribe(ti, summary, configs, partitions)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&summary, "print-summary", "s", false, "print only the summary section (with -c/-p: those too)")
	f.BoolVarP(&configs, "print-configs", "c", false, "print the configs section")
	f.BoolVarP(&partitions, "print-partitions", "p", false, "print the partitions section")
	return cmd
}

// printDescribe prints the chosen sections of one topic as tables.
func printDescribe(ti topicInfo, summary, configs, partitions bool) {
	var sep bool
	next := func() {
		if sep {
			fmt.Println()
		}
		sep = true
	}
	if summary {
		next()
		out.Section(os.Stdout, "summary")
		t := out.NewTable(os.Stdout)
		t.Row("NAME", ti.Name)
		t.Row("PARTITIONS", len(ti.Partitions))
		if len(ti.Partitions) > 0 {
			t.Row("REPLICAS", len(ti.Partitions[0].Replicas))
		}
		t.Flush()
	}
	if configs {
		next()
		out.Section(os.Stdout, "configs")
		t := out.NewTable(os.Stdout, "key", "value", "source")
		for _, c := range ti.Configs {
			t.Row(c.Key, c.Value, c.Source)
		}
		t.Flush()
	}
	if partitions {
		next()
		out.Section(os.Stdout, "partitions")
		t := out.NewTable(os.Stdout, "partition", "leader", "epoch", "replicas", "log-start-offset", "high-watermark")
		for _, p := range ti.Partitions {
			t.Row(p.Partition, p.Leader, p.Epoch, fmt.Sprint(p.Replicas), p.LogStart, p.HighWatermark)
		}
		t.Flush()
	}
}
