package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/spf13/cobra"

	"github.com/ailurus/ailurus/agent"
	"github.com/ailurus/ailurus/internal/config"
	"github.com/ailurus/ailurus/internal/logging"
)

func startCmd() *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start the node (agent, controller and one shard per core)",
		Long: "Start the node. Configuration comes from /etc/ailurus/ailurus.yaml (or --config),\n" +
			"then AILURUS_* environment variables, then flags. --dev runs a single node on\n" +
			"127.0.0.1 with data under ./.ailurus, no root needed.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(config.LoadOptions{Getenv: os.Getenv, Flags: cmd.Flags()})
			if err != nil {
				return err
			}
			if check {
				fmt.Printf("configuration OK (digest %s)\n", cfg.Digest())
				return nil
			}
			log := newLogger()
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			log.Info("ailurus starting", "version", version, "commit", commit, "node_id", cfg.NodeID,
				"config", cfg.File(), "config_digest", cfg.Digest(), "shards", cfg.Shards())
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return agent.Run(ctx, cfg, agent.Options{Exe: exe, Version: version, Logger: log, Status: notifySystemd})
		},
	}
	config.RegisterFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&check, "check", "t", false, "validate the configuration, print every problem, and exit")
	return cmd
}

// notifySystemd tells systemd what the node is doing (no-op outside systemd).
func notifySystemd(event, detail string) {
	var state string
	switch event {
	case "READY":
		state = daemon.SdNotifyReady + "\nSTATUS=" + detail
	case "STOPPING":
		state = daemon.SdNotifyStopping + "\nSTATUS=" + detail
	case "WATCHDOG":
		state = daemon.SdNotifyWatchdog
	default:
		state = "STATUS=" + detail
	}
	daemon.SdNotify(false, state)
}

// newLogger logs to the journal with structured fields under systemd, to
// stderr as text elsewhere (internal/logging).
func newLogger() *slog.Logger {
	level := slog.LevelInfo
	if os.Getenv("AILURUS_LOG_LEVEL") == "debug" {
		level = slog.LevelDebug
	}
	return logging.New(logging.Options{Level: level})
}
