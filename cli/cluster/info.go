package cluster

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ailurus/ailurus/cli/out"
)

func infoCmd(s *shared) *cobra.Command {
	var internal bool
	cmd := &cobra.Command{
		Use:     "info",
		Aliases: []string{"metadata"},
		Short:   "Show the cluster id, brokers, controller and topics (Kafka metadata)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := s.conn.Load()
			if err != nil {
				return err
			}
			cl, adm, err := cfg.Connect(cmd.Context())
			if err != nil {
				return err
			}
			defer cl.Close()
			md, err := adm.Metadata(cmd.Context())
			if err != nil {
				return fmt.Errorf("reading metadata: %w", err)
			}
			type broker struct {
				ID         int32  `json:"id"`
				Host       string `json:"host"`
				Port       int32  `json:"port"`
				Rack       string `json:"rack,omitempty"`
				Controller bool   `json:"controller"`
			}
			type topic struct {
				Name       string `json:"name"`
				Partitions int    `json:"partitions"`
				Replicas   int    `json:"replicas"`
			}
			info := struct {
				Cluster    string   `json:"cluster"`
				Controller int32    `json:"controller"`
				Brokers    []broker `json:"brokers"`
				Topics     []topic  `json:"topics"`
			}{Cluster: md.Cluster, Controller: md.Controller, Brokers: []broker{}, Topics: []topic{}}
			for _, b := range md.Brokers {
				rack := ""
				if b.Rack != nil {
					rack = *b.Rack
				}
				info.Brokers = append(info.Brokers, broker{b.NodeID, b.Host, b.Port, rack, b.NodeID == md.Controller})
			}
			for _, td := range md.Topics.Sorted() {
				if td.IsInternal && !internal {
					continue
				}
				info.Topics = append(info.Topics, topic{td.Topic, len(td.Partitions), td.Partitions.NumReplicas()})
			}
			if s.format.JSON() {
				return out.WriteJSON(os.Stdout, info)
			}
			out.Section(os.Stdout, "cluster")
			fmt.Printf("%s\n\n", info.Cluster)
			out.Section(os.Stdout, "brokers")
			t := out.NewTable(os.Stdout, "id", "host", "port", "rack")
			for _, b := range info.Brokers {
				id := fmt.Sprint(b.ID)
				if b.Controller {
					id += "*"
				}
				t.Row(id, b.Host, b.Port, b.Rack)
			}
			t.Flush()
			fmt.Println()
			out.Section(os.Stdout, "topics")
			t = out.NewTable(os.Stdout, "name", "partitions", "replicas")
			for _, tp := range info.Topics {
				t.Row(tp.Name, tp.Partitions, tp.Replicas)
			}
			return t.Flush()
		},
	}
	cmd.Flags().BoolVarP(&internal, "internal", "i", false, "include internal topics")
	return cmd
}
