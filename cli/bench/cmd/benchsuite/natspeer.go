package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// NATS JetStream with file storage, the durable stream a user might pick
// instead of a Kafka-compatible broker: with sync_always (every write
// fsynced before its ack, as Ailurus does) and with JetStream's default
// (acked once in the page cache, fsynced every 2 minutes).
const (
	sysNATSFsync = "nats-js-fsync"
	sysNATS      = "nats-js"
)

// natsEnv tells a re-executed benchsuite to serve NATS JetStream instead:
// "<sync>:<store dir>", sync being "always" (fsync every write before the
// ack, as Ailurus does) or "default" (JetStream's own 2-minute sync
// interval).
const natsEnv = "AILURUS_BENCHSUITE_NATS"

var natsReadyRe = regexp.MustCompile(`^nats ready addr=(\S+)`)

// startNATS re-executes this program as an embedded nats-server with
// JetStream storing files under dir.
func startNATS(dir string, syncAlways bool) (*system, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	mode := "default:" + dir
	if syncAlways {
		mode = "always:" + dir
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), natsEnv+"="+mode)
	name := sysNATS
	if syncAlways {
		name = sysNATSFsync
	}
	s, err := startChild(name, cmd, natsReadyRe, childReadyTimeout)
	if s != nil {
		s.nats = true
	}
	return s, err
}

// serveNATS is the child side of startNATS: it never returns.
func serveNATS(mode string) {
	sync, dir, _ := strings.Cut(mode, ":")
	ns, err := server.NewServer(&server.Options{
		ServerName:        "benchsuite",
		Host:              "127.0.0.1",
		Port:              server.RANDOM_PORT,
		JetStream:         true,
		StoreDir:          dir,
		SyncAlways:        sync == "always",
		JetStreamMaxStore: 64 << 30,
		NoSigs:            true,
		NoLog:             true,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "nats:", err)
		os.Exit(1)
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		fmt.Fprintln(os.Stderr, "nats: not ready within 30s")
		os.Exit(1)
	}
	fmt.Printf("nats ready addr=%s\n", ns.Addr())
	// The parent closes stdin (or dies, Pdeathsig) to stop us.
	io.Copy(io.Discard, os.Stdin)
	ns.Shutdown()
	ns.WaitForShutdown()
	os.Exit(0)
}
