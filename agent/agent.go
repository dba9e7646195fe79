// Package agent is the node's supervisor and control plane: it embeds the
// control bus, runs the controller, registers the broker, opens the shared
// Kafka port and runs one pinned shard process per core, restarting any that
// dies, and answers the shards' metadata and control requests. See README.md.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"golang.org/x/sys/unix"

	"github.com/ailurus/ailurus/agent/admin"
	"github.com/ailurus/ailurus/agent/cgroups"
	"github.com/ailurus/ailurus/agent/controller"
	"github.com/ailurus/ailurus/internal/bus"
	"github.com/ailurus/ailurus/internal/config"
	"github.com/ailurus/ailurus/internal/metadata"
)

// Options are what the command line hands the agent besides the config.
type Options struct {
	// Exe is the binary to run children with (os.Executable()).
	Exe string
	// Version is reported by the admin API.
	Version string
	Logger  *slog.Logger
	// Status receives lifecycle events for systemd (READY, STATUS, STOPPING);
	// nil ignores them.
	Status func(event, detail string)
}

// Agent is one node. Run it with Run; it stops when the context ends.
type Agent struct {
	cfg  *config.Config
	opts Options
	log  *slog.Logger

	dataDir, runDir string
	kafkaAddr       string // host:port actually bound (port 0 resolved)

	busSrv  *bus.Server
	conn    *bus.Conn
	ctrl    *controller.Controller
	pubMu   sync.Mutex // orders metadata publications
	shards  []*child
	readyMu sync.Mutex
	ready   map[int]int // shard -> pid that reported ready
	readyCh chan struct{}

	adminMetrics *admin.Metrics
	cg           *cgroups.Groups // per-role cgroups; a no-op when unavailable
}

// Run starts the node and serves until ctx ends, then stops in order:
// shards (which drain), controller, bus.
func Run(ctx context.Context, cfg *config.Config, opts Options) error {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Status == nil {
		opts.Status = func(string, string) {}
	}
	a := &Agent{cfg: cfg, opts: opts, log: opts.Logger.With("subsys", "agent"), ready: map[int]int{}, readyCh: make(chan struct{})}
	m, err := admin.NewMetrics(Registry)
	if err != nil {
		return err
	}
	a.adminMetrics = m
	return a.run(ctx)
}

func (a *Agent) run(ctx context.Context) error {
	var err error
	a.dataDir, err = filepath.Abs(a.cfg.DataDirectory)
	if err != nil {
		return err
	}
	a.runDir = filepath.Join(a.dataDir, "run")
	for _, d := range []string{a.dataDir, a.runDir, filepath.Join(a.dataDir, "kafka")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	unlock, err := lockDataDir(a.dataDir)
	if err != nil {
		return err
	}
	defer unlock()
	a.opts.Status("STATUS", "starting control bus")

	a.busSrv, err = bus.StartServer(ctx, bus.ServerOptions{Logger: a.opts.Logger})
	if err != nil {
		return fmt.Errorf("control bus: %w", err)
	}
	defer a.busSrv.Shutdown()
	a.conn, err = bus.Connect(a.busSrv.URL(), a.busSrv.Token(), "agent", a.log)
	if err != nil {
		return fmt.Errorf("connect to control bus: %w", err)
	}
	defer a.conn.Close()

	a.opts.Status("STATUS", "starting controller")
	if err := a.startController(ctx); err != nil {
		return err
	}
	defer a.ctrl.Close()
	if err := a.serveBus(); err != nil {
		return err
	}
	stopAdmin, err := a.startAdmin(ctx, a.opts.Version)
	if err != nil {
		return err
	}
	defer stopAdmin()

	n := a.cfg.Shards()
	kafka := a.cfg.KafkaAPI[0].HostPort()
	first, err := reusePortListener(kafka)
	if err != nil {
		return err
	}
	a.kafkaAddr = first.Addr().String()
	if err := a.registerBroker(ctx, n); err != nil {
		first.Close()
		return err
	}
	a.ensureInternalTopics(ctx) // __consumer_offsets (internal_topics.go)
	a.log.Info("node starting", "node_id", a.cfg.NodeID, "kafka", a.kafkaAddr, "shards", n, "data", a.dataDir)
	a.opts.Status("STATUS", fmt.Sprintf("starting %d shards", n))

	// Per-role slices or cgroups, before any child starts (agent/cgroups).
	// The sidecars' limits are node config (sidecar_cpu_quota_percent,
	// sidecar_memory_max_bytes); zero, from a Config not built by
	// config.DefaultConfig, means the cgroups package's defaults.
	cg, reason := cgroups.Install(ctx, cgroups.Options{
		ShardCPUs:          allowedCPUs(),
		SidecarCPUQuota:    cgroups.QuotaPercent(a.cfg.SidecarCPUQuotaPercent),
		SidecarMemoryLimit: a.cfg.SidecarMemoryMaxBytes,
	})
	if reason != "" {
		a.log.Warn("running without cgroup quotas", "reason", reason)
	} else {
		a.log.Info("cgroup quotas installed", "backend", string(cg.Mode()),
			"sidecar_cpu_quota_percent", a.cfg.SidecarCPUQuotaPercent, "sidecar_memory_max_bytes", a.cfg.SidecarMemoryMaxBytes)
	}
	defer func() {
		if err := cg.Close(); err != nil {
			a.log.Warn("cannot remove the per-role cgroups", "err", err)
		}
	}()
	a.cg = cg

	var wg sync.WaitGroup
	cctx, stopChildren := context.WithCancel(context.Background())
	for i := 0; i < n; i++ {
		var pending *net.TCPListener
		if i == 0 {
			pending = first
		}
		c := a.shardChild(i, pending)
		a.shards = append(a.shards, c)
		wg.Add(1)
		go func() { defer wg.Done(); c.run(cctx) }()
	}
	go a.watchReady(ctx)
	go a.runWatchdog(ctx) // WATCHDOG=1 from shard health (watchdog.go)

	<-ctx.Done()
	a.log.Info("node stopping")
	a.opts.Status("STOPPING", "stopping shards")
	stopChildren()
	wg.Wait()
	a.opts.Status("STATUS", "stopping controller")
	a.log.Info("node stopped")
	return nil
}

func (a *Agent) startController(ctx context.Context) error {
	_, trans := raft.NewInmemTransport(raft.ServerAddress("node-" + strconv.Itoa(a.cfg.NodeID)))
	cc := controller.DefaultConfig()
	cc.NodeID = int32(a.cfg.NodeID)
	cc.Dir = filepath.Join(a.dataDir, "controller")
	cc.Transport = trans
	cc.Logger = a.opts.Logger
	cc.Bootstrap = true
	cc.ClusterConfig = clusterStrings(a.cfg.Cluster)
	cc.OnChange = a.publishChange
	ctrl, err := controller.Open(cc)
	if err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	a.ctrl = ctrl
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := ctrl.WaitReady(wctx); err != nil {
		ctrl.Close()
		return fmt.Errorf("controller not ready: %w", err)
	}
	return nil
}

func (a *Agent) registerBroker(ctx context.Context, shards int) error {
	host, port, _ := net.SplitHostPort(a.kafkaAddr)
	if adv := a.cfg.AdvertisedKafkaAPI; len(adv) > 0 && adv[0].Address != "" {
		host = adv[0].Address
		if adv[0].Port != 0 {
			port = strconv.Itoa(adv[0].Port)
		}
	} else if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	b := metadata.Broker{
		NodeID:    int32(a.cfg.NodeID),
		KafkaAddr: net.JoinHostPort(host, port),
		RPCAddr:   a.cfg.RPCServer.HostPort(),
		Shards:    shards,
	}
	if len(a.cfg.Admin) > 0 {
		b.AdminAddr = a.cfg.Admin[0].HostPort()
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := a.ctrl.RegisterBroker(rctx, b); err != nil {
		return fmt.Errorf("register broker: %w", err)
	}
	return nil
}

// shardChild builds the supervisor of shard i. first, if set, is the
// listener already bound for shard 0.
func (a *Agent) shardChild(i int, first *net.TCPListener) *child {
	return &child{
		name: "shard-" + itoa(i),
		log:  a.log,
		start: func() (*exec.Cmd, error) {
			ln := first
			first = nil
			if ln == nil {
				var err error
				if ln, err = reusePortListener(a.kafkaAddr); err != nil {
					return nil, err
				}
			}
			f, err := listenerFile(ln)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			a.setNotReady(i)
			cpu := -1
			if cpus := allowedCPUs(); len(cpus) > 0 {
				cpu = cpus[i%len(cpus)]
			}
			cmd := exec.Command(a.opts.Exe, "internal", "shard",
				"--id", itoa(i), "--node-id", itoa(a.cfg.NodeID),
				"--data-dir", a.dataDir, "--run-dir", a.runDir,
				"--cpu", itoa(cpu), "--kafka-fd", "3",
				"--max-request-bytes", strconv.FormatInt(clusterInt(a.cfg.Cluster, "kafka_request_max_bytes", 100<<20), 10))
			cmd.Env = childEnv(bus.EnvFor(a.busSrv.URL(), a.busSrv.Token())...)
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			cmd.ExtraFiles = []*os.File{f}
			cmd.SysProcAttr = &unix.SysProcAttr{Pdeathsig: unix.SIGKILL}
			if err := cmd.Start(); err != nil {
				return nil, fmt.Errorf("start shard %d: %w", i, err)
			}
			if err := a.cg.AddShard(cmd.Process.Pid); err != nil {
				a.log.Warn("cannot place shard in its cgroup", "shard", i, "err", err)
			}
			return cmd, nil
		},
		onExit: func(error) {
			a.setNotReady(i)
			a.adminMetrics.ShardRestarted(i)
		},
	}
}

// allowedCPUs lists the CPUs this process may run on, for pinning.
func allowedCPUs() []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	var out []int
	for c := 0; c < 1024; c++ {
		if set.IsSet(c) {
			out = append(out, c)
		}
	}
	return out
}

// lockDataDir takes an exclusive lock so that two nodes never share a data
// directory.
func lockDataDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("data directory %s is in use by another ailurus node", dir)
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}
