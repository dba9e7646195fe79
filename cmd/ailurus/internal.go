package main

import (
	"context"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ailurus/ailurus/shard"
)

// internalCmd holds the roles the agent starts; not for people.
func internalCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "internal", Short: "Processes started by the agent", Hidden: true}
	var pc shard.ProcessConfig
	var node int
	var fd int
	sh := &cobra.Command{
		Use:  "shard",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pc.NodeID, pc.KafkaFD = int32(node), uintptr(fd)
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return shard.RunProcess(ctx, pc, newLogger())
		},
	}
	f := sh.Flags()
	f.IntVar(&pc.ID, "id", 0, "shard id")
	f.IntVar(&node, "node-id", 0, "node id")
	f.StringVar(&pc.DataDir, "data-dir", "", "data directory")
	f.StringVar(&pc.RunDir, "run-dir", "", "directory of the shards' Unix sockets")
	f.IntVar(&pc.CPU, "cpu", -1, "CPU to pin to (-1: none)")
	f.IntVar(&fd, "kafka-fd", 3, "inherited Kafka listener descriptor")
	f.Int32Var(&pc.MaxRequestBytes, "max-request-bytes", 100<<20, "largest request accepted")
	cmd.AddCommand(sh)
	return cmd
}
