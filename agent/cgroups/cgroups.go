//go:build linux

// Package cgroups places the node's processes in per-role groups: shards get
// a large CPU share, sidecars (uploader, transformer) get a CPU quota and a
// memory limit. Install picks the backend: under systemd, transient slices
// and scopes asked of systemd over D-Bus (systemd.go), where polkit allows
// it; otherwise per-role sub-cgroups of the agent's own cgroup written with
// containerd/cgroups on v1 or v2 (Setup), which works as root or, without
// root, in a cgroup systemd delegated to the agent (Delegate=yes on cgroup
// v2). Where neither works it returns a no-op Groups and the reasons, and
// the node runs without quotas.
package cgroups

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	cg "github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Mode forces a backend in Options.
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
	// Prefix names the systemd backend's units: <Prefix>-shards.slice,
	// <Prefix>-sidecars.slice, <Prefix>-shard-<pid>.scope. The cgroupfs
	// backend names its sub-cgroups after the roles (shards, sidecars, and
	// agent on v2) under the agent's own cgroup, which is the service's.
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

	ShardCPUShares uint64 // v1 cpu.shares of the shards
	ShardCPUWeight uint64 // v2 cpu.weight and systemd CPUWeight= of the shards
	// SidecarCPUPeriod and SidecarCPUQuota, in µs, are the sidecars' CPU
	// quota: SidecarCPUQuota of CPU time per SidecarCPUPeriod, all sidecars
	// together (QuotaPercent converts the node config's percent of a CPU).
	SidecarCPUPeriod uint64
	SidecarCPUQuota  int64
	// SidecarMemoryLimit is the sidecars' hard memory limit, in bytes.
	SidecarMemoryLimit int64

	// ShardCPUs are the CPUs shards are pinned to; the systemd backend
	// confines the shards' slice to them (AllowedCPUs=). Empty: no cpuset.
	ShardCPUs []int

	// Test seams; zero means the real thing.
	getenv     func(string) string                        // os.Getenv
	systemdDir string                                     // /run/systemd/system
	dial       func(context.Context) (systemdConn, error) // the system bus
	v1Sub      string                                     // v1: a group between the agent's and the roles' ("": none)
}

// QuotaPercent returns the SidecarCPUQuota, in µs per
// DefaultSidecarCPUPeriod, that lets the sidecars use percent of one CPU
// (config sidecar_cpu_quota_percent): 20 gives 20000, 150 gives 150000.
func QuotaPercent(percent int) int64 {
	return int64(percent) * DefaultSidecarCPUPeriod / 100
}

func (o *Options) defaults() {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.getenv == nil {
		o.getenv = os.Getenv
	}
	if o.systemdDir == "" {
		o.systemdDir = "/run/systemd/system"
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
	release  func() // after both roles are deleted (the D-Bus connection); may be nil
}

// Mode reports the backend in use (ModeV1, ModeV2, ModeSystemd), or ModeNone
// for the no-op Groups.
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

// Close deletes the sub-cgroups Setup created, or stops the slices the
// systemd backend started; their processes must have exited. A group that
// cannot be deleted is kept, so Close can be retried; once all are gone,
// Close is a no-op.
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
	if len(errs) == 0 && g.release != nil {
		g.release()
		g.release = nil
	}
	return errors.Join(errs...)
}

// Names of the cgroupfs backend's sub-cgroups under the agent's own cgroup.
const (
	shardsGroup   = "shards"
	sidecarsGroup = "sidecars"
	agentGroup    = "agent" // v2 only: the agent's leaf (no internal processes)
)

// Setup creates the per-role sub-cgroups under the agent's own cgroup. It
// does not look at who the agent runs as: root may write anywhere, and a
// non-root agent may write where systemd delegated its service's cgroup to it
// (Delegate=yes). It just tries; when the writes are refused, or no usable
// hierarchy is mounted, it returns a no-op Groups and a non-empty reason.
func Setup(opts Options) (*Groups, string) {
	opts.defaults()
	mode := opts.Mode
	if mode == ModeNone {
		return &Groups{}, "cgroups disabled by options"
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
		return &Groups{}, refusal(err)
	}
	return g, ""
}

// refusal turns a failed write into the reason logged: permission errors
// mean neither root nor a delegated cgroup, EROFS a read-only mount (a
// container's cgroupfs).
func refusal(err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission) && os.Geteuid() != 0:
		return "not root and the cgroup is not delegated to the agent: " + err.Error()
	case errors.Is(err, fs.ErrPermission):
		return "refused although root (a user namespace or a security module?): " + err.Error()
	case errors.Is(err, unix.EROFS):
		return "read-only cgroupfs: " + err.Error()
	default:
		return err.Error()
	}
}

// detect picks the hierarchy: v1 when its cpu controller is mounted, else
// cgroup2. Whether the agent may write there is Setup's to find out.
func detect(opts *Options) (Mode, string) {
	switch cg.Mode() {
	case cg.Legacy, cg.Hybrid:
		if _, err := os.Stat(filepath.Join(opts.V1Root, "cpu")); err == nil {
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

// ---- v1 ----

type v1Role struct{ c cgroup1.Cgroup }

func (r v1Role) add(pid int) error { return r.c.Add(cgroup1.Process{Pid: pid}) }
func (r v1Role) delete() error     { return r.c.Delete() }

// setupV1 creates shards in the cpu hierarchy and sidecars in cpu and memory,
// each under the agent's own cgroup of that hierarchy (cgroup1.NestedPath).
// Under systemd that is the service's cgroup, which systemd hands to a
// non-root service only on v2: on v1 only root gets this far.
func setupV1(opts Options) (*Groups, error) {
	root := opts.V1Root
	shares := opts.ShardCPUShares
	shards, err := cgroup1.New(cgroup1.NestedPath(filepath.Join(opts.v1Sub, shardsGroup)),
		&specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: &shares}},
		cgroup1.WithHierarchy(func() ([]cgroup1.Subsystem, error) {
			return []cgroup1.Subsystem{cgroup1.NewCpu(root)}, nil
		}))
	if err != nil {
		return nil, fmt.Errorf("cgroup v1 %s: %w", shardsGroup, err)
	}
	if len(shards.Subsystems()) == 0 {
		_ = shards.Delete()
		return nil, errors.New("cgroup v1 has no cpu controller")
	}
	quota, period, limit := opts.SidecarCPUQuota, opts.SidecarCPUPeriod, opts.SidecarMemoryLimit
	sidecars, err := cgroup1.New(cgroup1.NestedPath(filepath.Join(opts.v1Sub, sidecarsGroup)),
		&specs.LinuxResources{
			CPU:    &specs.LinuxCPU{Quota: &quota, Period: &period},
			Memory: &specs.LinuxMemory{Limit: &limit},
		},
		cgroup1.WithHierarchy(func() ([]cgroup1.Subsystem, error) {
			return []cgroup1.Subsystem{cgroup1.NewCpu(root), cgroup1.NewMemory(root)}, nil
		}))
	if err != nil {
		_ = shards.Delete()
		return nil, fmt.Errorf("cgroup v1 %s: %w", sidecarsGroup, err)
	}
	return &Groups{mode: ModeV1, shards: v1Role{shards}, sidecars: v1Role{sidecars}}, nil
}

// ---- v2 ----

type v2Role struct{ m *cgroup2.Manager }

func (r v2Role) add(pid int) error { return r.m.AddProc(uint64(pid)) }
func (r v2Role) delete() error     { return r.m.Delete() }

// setupV2 creates <parent>/shards and <parent>/sidecars, parent being the
// agent's own cgroup, e.g. /ailurus.slice/ailurus.service: with Delegate=yes
// systemd gives that cgroup (its cgroup.procs and cgroup.subtree_control) to
// the service's user and enables cpu and memory in it, so a non-root agent
// may do all of this. The agent itself moves to <parent>/agent first.
func setupV2(opts Options) (*Groups, error) {
	mount := opts.V2Mountpoint
	if mount == "" {
		mount = "/sys/fs/cgroup"
	}
	parent := opts.V2Group
	if parent == "" {
		var err error
		if parent, err = cgroup2.NestedGroupPath(""); err != nil {
			return nil, fmt.Errorf("cgroup2: own cgroup: %w", err)
		}
	}
	// The controllers the agent's cgroup can hand to its children: those its
	// own parent enabled (all of the host's at the root).
	b, err := os.ReadFile(filepath.Join(mount, parent, "cgroup.controllers"))
	if err != nil {
		return nil, fmt.Errorf("cgroup2 at %s: %w", mount, err)
	}
	ctrls := strings.Fields(string(b))
	if !slices.Contains(ctrls, "cpu") || !slices.Contains(ctrls, "memory") {
		return nil, errors.New("cgroup2 lacks cpu/memory controllers")
	}
	undo, err := moveToLeaf(mount, parent)
	if err != nil {
		return nil, err
	}
	weight := opts.ShardCPUWeight
	shards, err := cgroup2.NewManager(mount, filepath.Join(parent, shardsGroup),
		&cgroup2.Resources{CPU: &cgroup2.CPU{Weight: &weight}})
	if err != nil {
		undo()
		return nil, fmt.Errorf("cgroup2 %s: %w", shardsGroup, err)
	}
	quota, period, limit := opts.SidecarCPUQuota, opts.SidecarCPUPeriod, opts.SidecarMemoryLimit
	sidecars, err := cgroup2.NewManager(mount, filepath.Join(parent, sidecarsGroup),
		&cgroup2.Resources{
			CPU:    &cgroup2.CPU{Max: cgroup2.NewCPUMax(&quota, &period)},
			Memory: &cgroup2.Memory{Max: &limit},
		})
	if err != nil {
		_ = shards.Delete()
		undo()
		return nil, fmt.Errorf("cgroup2 %s: %w", sidecarsGroup, err)
	}
	return &Groups{mode: ModeV2, shards: v2Role{shards}, sidecars: v2Role{sidecars}}, nil
}

// moveToLeaf moves the agent from parent into <parent>/agent when parent
// lists it: cgroup2 lets a cgroup other than the root either hold processes
// or enable controllers for its children, not both, and enabling cpu and
// memory for shards and sidecars is the point. undo, for when the rest of
// Setup fails, moves the agent back and removes the leaf (best effort: once
// parent enables controllers the kernel refuses the move, and the agent
// stays in the leaf). The leaf otherwise stays for the agent's lifetime;
// systemd removes it with the service's cgroup.
func moveToLeaf(mount, parent string) (undo func(), err error) {
	undo = func() {}
	if parent == "/" {
		return undo, nil
	}
	procs, err := os.ReadFile(filepath.Join(mount, parent, "cgroup.procs"))
	if err != nil {
		return nil, fmt.Errorf("cgroup2: %w", err)
	}
	self := strconv.Itoa(os.Getpid())
	if !slices.Contains(strings.Fields(string(procs)), self) {
		return undo, nil
	}
	leaf := filepath.Join(parent, agentGroup)
	if err := os.Mkdir(filepath.Join(mount, leaf), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("cgroup2: %w", err)
	}
	m, err := cgroup2.Load(leaf, cgroup2.WithMountpoint(mount))
	if err == nil {
		err = m.AddProc(uint64(os.Getpid()))
	}
	if err != nil {
		_ = os.Remove(filepath.Join(mount, leaf))
		return nil, fmt.Errorf("cgroup2: move agent to %s: %w", leaf, err)
	}
	return func() {
		back, err := cgroup2.Load(parent, cgroup2.WithMountpoint(mount))
		if err == nil && back.AddProc(uint64(os.Getpid())) == nil {
			_ = os.Remove(filepath.Join(mount, leaf))
		}
	}, nil
}
