//go:build linux

// Package cgroups places the node's processes in per-role sub-cgroups of the
// agent's own cgroup: shards get a large CPU share, sidecars (uploader,
// transformer) get a CPU quota and a memory limit. Where the agent cannot
// manage cgroups (not root, read-only cgroupfs, no cpu/memory controllers),
// Setup returns a no-op Groups and the reason, and the node runs without
// quotas.
package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	cg "github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Mode forces a hierarchy in Options.
type Mode string

const (
	ModeAuto Mode = ""     // detect from the host
	ModeV1   Mode = "v1"   // legacy hierarchy
	ModeV2   Mode = "v2"   // unified hierarchy
	ModeNone Mode = "none" // no cgroups at all
)

// Defaults applied to zero Options fields.
const (
	DefaultPrefix             = "ailurus"
	DefaultShardCPUShares     = 8192    // v1 cpu.shares (default 1024)
	DefaultShardCPUWeight     = 1000    // v2 cpu.weight (default 100)
	DefaultSidecarCPUPeriod   = 100000  // µs
	DefaultSidecarCPUQuota    = 20000   // µs per period: 20% of one CPU
	DefaultSidecarMemoryLimit = 1 << 30 // bytes
)

// Options configures Setup. The zero value detects the hierarchy and uses
// the defaults above.
type Options struct {
	// Prefix names the sub-cgroups: <Prefix>-shards, <Prefix>-sidecars.
	Prefix string
	// Mode forces a hierarchy; ModeAuto detects it.
	Mode Mode
	// V1Root is the mount root of the v1 controllers (default /sys/fs/cgroup).
	V1Root string
	// V2Mountpoint is the cgroup2 mountpoint (default /sys/fs/cgroup, or
	// /sys/fs/cgroup/unified on a hybrid host).
	V2Mountpoint string
	// V2Group is the parent group under V2Mountpoint (default: the agent's
	// own cgroup from /proc/self/cgroup).
	V2Group string

	ShardCPUShares     uint64
	ShardCPUWeight     uint64
	SidecarCPUPeriod   uint64
	SidecarCPUQuota    int64
	SidecarMemoryLimit int64
}

func (o *Options) defaults() {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.V1Root == "" {
		o.V1Root = "/sys/fs/cgroup"
	}
	if o.ShardCPUShares == 0 {
		o.ShardCPUShares = DefaultShardCPUShares
	}
	if o.ShardCPUWeight == 0 {
		o.ShardCPUWeight = DefaultShardCPUWeight
	}
	if o.SidecarCPUPeriod == 0 {
		o.SidecarCPUPeriod = DefaultSidecarCPUPeriod
	}
	if o.SidecarCPUQuota == 0 {
		o.SidecarCPUQuota = DefaultSidecarCPUQuota
	}
	if o.SidecarMemoryLimit == 0 {
		o.SidecarMemoryLimit = DefaultSidecarMemoryLimit
	}
}

// role is one sub-cgroup on either hierarchy.
type role interface {
	add(pid int) error
	delete() error
}

// Groups holds the per-role sub-cgroups. The zero value and a nil *Groups
// are no-ops.
type Groups struct {
	mode     Mode
	shards   role
	sidecars role
}

// Mode reports the hierarchy in use, or ModeNone for the no-op Groups.
func (g *Groups) Mode() Mode {
	if g == nil || (g.shards == nil && g.sidecars == nil) {
		return ModeNone
	}
	return g.mode
}

// AddShard moves a shard process into the shards' cgroup.
func (g *Groups) AddShard(pid int) error {
	if g == nil || g.shards == nil {
		return nil
	}
	return g.shards.add(pid)
}

// AddSidecar moves a sidecar process into the sidecars' cgroup.
func (g *Groups) AddSidecar(pid int) error {
	if g == nil || g.sidecars == nil {
		return nil
	}
	return g.sidecars.add(pid)
}

// Close deletes the sub-cgroups Setup created; their processes must have
// exited. A sub-cgroup that cannot be deleted is kept, so Close can be
// retried; once all are gone, Close is a no-op.
func (g *Groups) Close() error {
	if g == nil {
		return nil
	}
	var errs []error
	for _, r := range []*role{&g.sidecars, &g.shards} {
		if *r == nil {
			continue
		}
		if err := (*r).delete(); err != nil {
			errs = append(errs, err)
			continue
		}
		*r = nil
	}
	return errors.Join(errs...)
}

// Setup creates the per-role sub-cgroups. When it cannot, it returns a no-op
// Groups and a non-empty reason.
func Setup(opts Options) (*Groups, string) {
	opts.defaults()
	mode := opts.Mode
	if mode == ModeNone {
		return &Groups{}, "cgroups disabled by options"
	}
	if os.Geteuid() != 0 {
		return &Groups{}, "not root"
	}
	if mode == ModeAuto {
		var reason string
		mode, reason = detect(&opts)
		if reason != "" {
			return &Groups{}, reason
		}
	}
	var (
		g   *Groups
		err error
	)
	switch mode {
	case ModeV1:
		g, err = setupV1(opts)
	case ModeV2:
		g, err = setupV2(opts)
	default:
		return &Groups{}, fmt.Sprintf("unknown cgroup mode %q", mode)
	}
	if err != nil {
		return &Groups{}, err.Error()
	}
	return g, ""
}

// detect picks the hierarchy: v1 when its cpu controller is mounted and
// writable, else cgroup2 when it has the cpu and memory controllers.
func detect(opts *Options) (Mode, string) {
	switch cg.Mode() {
	case cg.Legacy, cg.Hybrid:
		cpu := filepath.Join(opts.V1Root, "cpu")
		if _, err := os.Stat(cpu); err == nil {
			if err := writable(cpu); err != nil {
				return "", "read-only cgroupfs: " + err.Error()
			}
			return ModeV1, ""
		}
		if cg.Mode() == cg.Legacy {
			return "", "cgroup v1 has no cpu controller"
		}
		if opts.V2Mountpoint == "" {
			opts.V2Mountpoint = "/sys/fs/cgroup/unified"
		}
		return ModeV2, ""
	case cg.Unified:
		return ModeV2, ""
	default:
		return "", "no cgroup filesystem mounted"
	}
}

func writable(path string) error {
	if err := unix.Access(path, unix.W_OK); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// ---- v1 ----

type v1Role struct{ c cgroup1.Cgroup }

func (r v1Role) add(pid int) error { return r.c.Add(cgroup1.Process{Pid: pid}) }
func (r v1Role) delete() error     { return r.c.Delete() }

func setupV1(opts Options) (*Groups, error) {
	root := opts.V1Root
	shares := opts.ShardCPUShares
	shards, err := cgroup1.New(cgroup1.NestedPath(opts.Prefix+"-shards"),
		&specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: &shares}},
		cgroup1.WithHierarchy(func() ([]cgroup1.Subsystem, error) {
			return []cgroup1.Subsystem{cgroup1.NewCpu(root)}, nil
		}))
	if err != nil {
		return nil, fmt.Errorf("cgroup v1 %s-shards: %w", opts.Prefix, err)
	}
	if len(shards.Subsystems()) == 0 {
		_ = shards.Delete()
		return nil, errors.New("cgroup v1 has no cpu controller")
	}
	quota, period, limit := opts.SidecarCPUQuota, opts.SidecarCPUPeriod, opts.SidecarMemoryLimit
	sidecars, err := cgroup1.New(cgroup1.NestedPath(opts.Prefix+"-sidecars"),
		&specs.LinuxResources{
			CPU:    &specs.LinuxCPU{Quota: &quota, Period: &period},
			Memory: &specs.LinuxMemory{Limit: &limit},
		},
		cgroup1.WithHierarchy(func() ([]cgroup1.Subsystem, error) {
			return []cgroup1.Subsystem{cgroup1.NewCpu(root), cgroup1.NewMemory(root)}, nil
		}))
	if err != nil {
		_ = shards.Delete()
		return nil, fmt.Errorf("cgroup v1 %s-sidecars: %w", opts.Prefix, err)
	}
	return &Groups{mode: ModeV1, shards: v1Role{shards}, sidecars: v1Role{sidecars}}, nil
}

// ---- v2 ----

type v2Role struct{ m *cgroup2.Manager }

func (r v2Role) add(pid int) error { return r.m.AddProc(uint64(pid)) }
func (r v2Role) delete() error     { return r.m.Delete() }

func setupV2(opts Options) (*Groups, error) {
	mount := opts.V2Mountpoint
	if mount == "" {
		mount = "/sys/fs/cgroup"
	}
	b, err := os.ReadFile(filepath.Join(mount, "cgroup.controllers"))
	if err != nil {
		return nil, fmt.Errorf("cgroup2 at %s: %w", mount, err)
	}
	ctrls := strings.Fields(string(b))
	if !slices.Contains(ctrls, "cpu") || !slices.Contains(ctrls, "memory") {
		return nil, errors.New("cgroup2 lacks cpu/memory controllers")
	}
	parent := opts.V2Group
	if parent == "" {
		if parent, err = cgroup2.NestedGroupPath(""); err != nil {
			return nil, fmt.Errorf("cgroup2: own cgroup: %w", err)
		}
	}
	if err := writable(filepath.Join(mount, parent)); err != nil {
		return nil, errors.New("read-only cgroupfs: " + err.Error())
	}
	// cgroup2 allows no processes in a cgroup that delegates controllers to
	// its children, so when the agent's own cgroup (not the root) holds
	// processes, move the agent into a leaf <prefix>-agent first.
	if parent != "/" {
		procs, err := os.ReadFile(filepath.Join(mount, parent, "cgroup.procs"))
		if err != nil {
			return nil, fmt.Errorf("cgroup2: %w", err)
		}
		if len(strings.TrimSpace(string(procs))) > 0 {
			leaf := filepath.Join(parent, opts.Prefix+"-agent")
			if err := os.MkdirAll(filepath.Join(mount, leaf), 0o755); err != nil {
				return nil, fmt.Errorf("cgroup2: %w", err)
			}
			m, err := cgroup2.Load(leaf, cgroup2.WithMountpoint(mount))
			if err == nil {
				err = m.AddProc(uint64(os.Getpid()))
			}
			if err != nil {
				return nil, fmt.Errorf("cgroup2: move agent to %s: %w", leaf, err)
			}
		}
	}
	weight := opts.ShardCPUWeight
	shards, err := cgroup2.NewManager(mount, filepath.Join(parent, opts.Prefix+"-shards"),
		&cgroup2.Resources{CPU: &cgroup2.CPU{Weight: &weight}})
	if err != nil {
		return nil, fmt.Errorf("cgroup2 %s-shards: %w", opts.Prefix, err)
	}
	quota, period, limit := opts.SidecarCPUQuota, opts.SidecarCPUPeriod, opts.SidecarMemoryLimit
	sidecars, err := cgroup2.NewManager(mount, filepath.Join(parent, opts.Prefix+"-sidecars"),
		&cgroup2.Resources{
			CPU:    &cgroup2.CPU{Max: cgroup2.NewCPUMax(&quota, &period)},
			Memory: &cgroup2.Memory{Max: &limit},
		})
	if err != nil {
		_ = shards.Delete()
		return nil, fmt.Errorf("cgroup2 %s-sidecars: %w", opts.Prefix, err)
	}
	return &Groups{mode: ModeV2, shards: v2Role{shards}, sidecars: v2Role{sidecars}}, nil
}
