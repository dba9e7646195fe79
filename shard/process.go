package shard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"time"

	"github.com/prometheus/common/expfmt"
	"golang.org/x/sys/unix"

	"github.com/ailurus/ailurus/internal/bus"
	"github.com/ailurus/ailurus/internal/storage"
)

// ProcessConfig is what `ailurus internal shard` is started with by the
// agent. The Kafka listener arrives as an inherited file descriptor (one
// SO_REUSEPORT socket per shard, all bound to the same port by the agent);
// the bus address and token arrive in the environment.
type ProcessConfig struct {
	ID              int
	NodeID          int32
	DataDir         string
	RunDir          string // Unix sockets of the node's shards
	CPU             int    // CPU to pin to; -1 for none
	KafkaFD         uintptr
	MaxRequestBytes int32
}

// ForwardSocket is the path of shard id's forward socket under runDir.
func ForwardSocket(runDir string, id int) string {
	return filepath.Join(runDir, fmt.Sprintf("shard-%d.sock", id))
}

// RunProcess runs one shard process until ctx ends (SIGTERM from the agent).
func RunProcess(ctx context.Context, pc ProcessConfig, log *slog.Logger) error {
	runtime.GOMAXPROCS(1)
	log = log.With("shard", pc.ID)
	// AILURUS_SHARD_CPUPROFILE=<prefix>: each shard writes a CPU profile to
	// <prefix>.shard-<id> until it stops (for `go tool pprof`);
	// AILURUS_SHARD_TRACE=<prefix> an execution trace (for `go tool trace`,
	// e.g. -pprof=sched for where goroutines waited for a CPU).
	for _, prof := range []struct {
		env   string
		start func(io.Writer) error
		stop  func()
	}{
		{"AILURUS_SHARD_CPUPROFILE", pprof.StartCPUProfile, pprof.StopCPUProfile},
		{"AILURUS_SHARD_TRACE", trace.Start, trace.Stop},
	} {
		prefix := os.Getenv(prof.env)
		if prefix == "" {
			continue
		}
		if f, err := os.Create(fmt.Sprintf("%s.shard-%d", prefix, pc.ID)); err != nil {
			log.Warn("profile not written", "env", prof.env, "err", err)
		} else if err := prof.start(f); err != nil {
			log.Warn("profile not written", "env", prof.env, "err", err)
			f.Close()
		} else {
			defer f.Close()
			defer prof.stop()
		}
	}
	if pc.CPU >= 0 {
		var set unix.CPUSet
		set.Set(pc.CPU)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			log.Warn("cannot pin shard to its CPU; running unpinned", "cpu", pc.CPU, "err", err)
		}
	}
	url, token, err := bus.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	conn, err := bus.Connect(url, token, fmt.Sprintf("shard-%d", pc.ID), log)
	if err != nil {
		return fmt.Errorf("connect to bus: %w", err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // the agent is gone: nothing left to serve for
		select {
		case <-conn.Closed():
			log.Error("control bus lost; shard exits")
			cancel()
		case <-ctx.Done():
		}
	}()
	cat, err := NewBusCatalog(conn, fmt.Sprintf("shard-%d", pc.ID))
	if err != nil {
		return err
	}
	catDone := make(chan error, 1)
	go func() { catDone <- cat.Run(ctx) }()
	select {
	case <-cat.Synced():
	case err := <-catDone:
		return fmt.Errorf("metadata: %w", err)
	case <-time.After(60 * time.Second):
		return errors.New("no metadata snapshot from the controller within 60s")
	}

	kl, err := net.FileListener(os.NewFile(pc.KafkaFD, "kafka"))
	if err != nil {
		return fmt.Errorf("kafka listener (fd %d): %w", pc.KafkaFD, err)
	}
	sock := ForwardSocket(pc.RunDir, pc.ID)
	os.Remove(sock)
	fl, err := net.Listen("unix", sock)
	if err != nil {
		kl.Close()
		return fmt.Errorf("forward socket: %w", err)
	}
	s, err := New(Config{
		ID: pc.ID, NodeID: pc.NodeID, DataDir: pc.DataDir,
		Kafka: kl, Forward: fl,
		ForwardPath:     func(i int) string { return ForwardSocket(pc.RunDir, i) },
		Catalog:         cat,
		Logger:          log,
		Flusher:         storage.NewFlusher(16),
		MaxRequestBytes: pc.MaxRequestBytes,
	})
	if err != nil {
		return err
	}
	go s.report(ctx, conn, pc.ID)
	err = s.Serve(ctx, func() {
		log.Info("shard serving", "partitions", s.parts.count(), "meta_version", cat.State().Version)
		bus.Publish(conn, bus.ShardReadySubject(pc.ID), bus.ShardReady{
			ShardID: pc.ID, PID: os.Getpid(), MetaVersion: cat.State().Version, Time: time.Now(),
		})
	})
	os.Remove(sock)
	return err
}

// report publishes health every second (the agent's watchdog feeds on it)
// and metrics every five.
func (s *Shard) report(ctx context.Context, conn *bus.Conn, id int) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		bus.Publish(conn, bus.ShardHealthSubject(id), bus.ShardHealth{
			ShardID: id, PID: os.Getpid(), Serving: true, Partitions: s.parts.count(), Time: time.Now(),
		})
		if i%5 == 0 {
			if b, err := metricsText(); err == nil {
				bus.PublishRaw(conn, bus.MetricsSubject("shard", id), b)
			}
		}
	}
}

func metricsText() ([]byte, error) {
	mfs, err := Registry.Gather()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}
