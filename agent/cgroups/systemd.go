//go:build linux

package cgroups

import (
	"context"
	"errors"
	"fmt"
	"time"

	sdbus "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"
)

// The systemd backend: under systemd the agent does not write cgroupfs
// itself (systemd owns the tree and would undo it) but asks the manager over
// D-Bus for two transient slices,
//
//	ailurus.slice
//	├─ailurus.service                 the agent
//	├─ailurus-shards.slice            CPUWeight (AllowedCPUs)
//	│ └─ailurus-shard-<pid>.scope     one per shard process
//	└─ailurus-sidecars.slice          CPUQuota, MemoryMax
//	  └─ailurus-sidecar-<pid>.scope   uploader, transformer
//
// and places each child in its slice through a transient scope created with
// the child's PID (StartTransientUnit with PIDs=): systemd moves an existing
// process of another unit into a new scope, which is how it is meant to be
// done (systemd-run --scope, logind), whereas AttachProcessesToUnit only
// moves processes into a unit with Delegate=yes. A slice's place in the tree
// is its name: ailurus-shards.slice is a child of ailurus.slice.
//
// CPUAffinity= is an execution property of services; slices and scopes have
// none, so shards still pin themselves (sched_setaffinity, one per core) and
// the shards' slice gets AllowedCPUs= (a cpuset; systemd ignores it on a
// cgroup v1 host).
//
// The manager authorizes StartTransientUnit for root and, for other users,
// through polkit. packaging/polkit/50-ailurus.rules grants the ailurus user
// only ailurus-*.slice and ailurus-*.scope, which it can check only where
// systemd tells polkit the unit's name (257 and newer); on older systemd
// (252) the call is refused and Install falls back to the service's
// delegated cgroup (Setup).

// ModeSystemd is the systemd backend (transient slices and scopes over D-Bus).
const ModeSystemd Mode = "systemd"

// systemdTimeout bounds one D-Bus call and the job it queues.
const systemdTimeout = 10 * time.Second

// systemdConn is the part of go-systemd's *dbus.Conn the backend uses. It is
// safe for concurrent use; every call blocks on a D-Bus round trip.
type systemdConn interface {
	StartTransientUnitContext(ctx context.Context, name, mode string, props []sdbus.Property, ch chan<- string) (int, error)
	StopUnitContext(ctx context.Context, name, mode string, ch chan<- string) (int, error)
	Close()
}

var _ systemdConn = (*sdbus.Conn)(nil)

// dialSystemBus connects to systemd through the system bus, so that a
// non-root agent is authorized by polkit.
func dialSystemBus(ctx context.Context) (systemdConn, error) {
	return sdbus.NewSystemConnectionContext(ctx)
}

// errUnitExists is systemd's D-Bus error for a unit name already loaded.
const errUnitExists = "org.freedesktop.systemd1.UnitExists"

func isDBusError(err error, name string) bool {
	var e godbus.Error
	if errors.As(err, &e) {
		return e.Name == name
	}
	var pe *godbus.Error
	return errors.As(err, &pe) && pe != nil && pe.Name == name
}

// shardsSlice and sidecarsSlice name the per-role slices for a prefix.
func shardsSlice(prefix string) string   { return prefix + "-shards.slice" }
func sidecarsSlice(prefix string) string { return prefix + "-sidecars.slice" }

// shardsSliceProps are the resource properties of the shards' slice: a CPU
// weight far above everything else, and the CPUs the shards are pinned to.
func shardsSliceProps(opts Options) []sdbus.Property {
	props := []sdbus.Property{
		{Name: "CPUAccounting", Value: godbus.MakeVariant(true)},
		{Name: "CPUWeight", Value: godbus.MakeVariant(opts.ShardCPUWeight)},
	}
	if len(opts.ShardCPUs) > 0 {
		props = append(props, sdbus.Property{Name: "AllowedCPUs", Value: godbus.MakeVariant(cpuMask(opts.ShardCPUs))})
	}
	return props
}

// sidecarsSliceProps are the resource properties of the sidecars' slice: a
// CPU quota (systemd counts it per second of wall time; the period stays the
// one the cgroupfs backend uses) and a hard memory limit.
func sidecarsSliceProps(opts Options) []sdbus.Property {
	perSec := uint64(opts.SidecarCPUQuota) * 1_000_000 / opts.SidecarCPUPeriod
	return []sdbus.Property{
		{Name: "CPUAccounting", Value: godbus.MakeVariant(true)},
		{Name: "MemoryAccounting", Value: godbus.MakeVariant(true)},
		{Name: "CPUQuotaPerSecUSec", Value: godbus.MakeVariant(perSec)},
		{Name: "CPUQuotaPeriodUSec", Value: godbus.MakeVariant(opts.SidecarCPUPeriod)},
		{Name: "MemoryMax", Value: godbus.MakeVariant(uint64(opts.SidecarMemoryLimit))},
	}
}

// scopeProps put one process in a new scope under slice. The scope is
// garbage-collected when its process exits, also after a failure.
func scopeProps(desc, slice string, pid int) []sdbus.Property {
	return []sdbus.Property{
		sdbus.PropDescription(desc),
		sdbus.PropSlice(slice),
		sdbus.PropPids(uint32(pid)),
		{Name: "CollectMode", Value: godbus.MakeVariant("inactive-or-failed")},
	}
}

// cpuMask encodes CPUs as systemd's AllowedCPUs= byte array: bit c%8 of byte
// c/8 is CPU c.
func cpuMask(cpus []int) []byte {
	var mask []byte
	for _, c := range cpus {
		if c < 0 {
			continue
		}
		for len(mask) <= c/8 {
			mask = append(mask, 0)
		}
		mask[c/8] |= 1 << (c % 8)
	}
	return mask
}

// waitJob runs start with a result channel and waits for the job to finish;
// any result but "done" is an error.
func waitJob(ctx context.Context, what string, start func(ctx context.Context, ch chan<- string) (int, error)) error {
	ctx, cancel := context.WithTimeout(ctx, systemdTimeout)
	defer cancel()
	ch := make(chan string, 1)
	if _, err := start(ctx, ch); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	select {
	case res := <-ch:
		if res != "done" {
			return fmt.Errorf("%s: job %s", what, res)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
}

// sdRole is one slice; add puts a process in a new scope under it.
type sdRole struct {
	conn   systemdConn
	slice  string
	prefix string // of the scopes' names, e.g. ailurus
	kind   string // of process: shard, sidecar
}

// add creates the scope <prefix>-<kind>-<pid>.scope holding pid.
func (r sdRole) add(pid int) error {
	name := fmt.Sprintf("%s-%s-%d.scope", r.prefix, r.kind, pid)
	return waitJob(context.Background(), "start "+name, func(ctx context.Context, ch chan<- string) (int, error) {
		return r.conn.StartTransientUnitContext(ctx, name, "fail",
			scopeProps(fmt.Sprintf("Ailurus %s process %d", r.kind, pid), r.slice, pid), ch)
	})
}

// delete stops the slice, and with it any scope still in it.
func (r sdRole) delete() error {
	return waitJob(context.Background(), "stop "+r.slice, func(ctx context.Context, ch chan<- string) (int, error) {
		return r.conn.StopUnitContext(ctx, r.slice, "replace", ch)
	})
}

// startSlice creates a transient slice. A slice of that name left by an
// agent that did not stop (killed by the watchdog, say) is stopped first,
// which also ends any process of that agent still in it, and created again
// with the current properties. Stopping and starting is all the polkit rule
// allows: no SetUnitProperties.
func startSlice(ctx context.Context, conn systemdConn, name, desc string, props []sdbus.Property) error {
	start := func() error {
		return waitJob(ctx, "start "+name, func(ctx context.Context, ch chan<- string) (int, error) {
			return conn.StartTransientUnitContext(ctx, name, "replace", append([]sdbus.Property{sdbus.PropDescription(desc)}, props...), ch)
		})
	}
	err := start()
	if err == nil || !isDBusError(err, errUnitExists) {
		return err
	}
	if err := (sdRole{conn: conn, slice: name}).delete(); err != nil {
		return fmt.Errorf("left-over %s: %w", name, err)
	}
	return start()
}

// setupSystemd creates the per-role slices through systemd. The returned
// Groups owns the D-Bus connection and closes it in Close.
func setupSystemd(ctx context.Context, opts Options) (*Groups, error) {
	dial := opts.dial
	if dial == nil {
		dial = dialSystemBus
	}
	// godbus closes the connection when the context it was dialled with
	// ends, and Close needs it after the agent's context is cancelled: give
	// it a context of its own, cancelled by a slow dial or by Close.
	cctx, ccancel := context.WithCancel(context.Background())
	slow := time.AfterFunc(systemdTimeout, ccancel)
	conn, err := dial(cctx)
	if !slow.Stop() && err == nil {
		conn.Close()
		err = context.DeadlineExceeded
	}
	if err != nil {
		ccancel()
		return nil, fmt.Errorf("connect to systemd: %w", err)
	}
	release := func() { conn.Close(); ccancel() }
	shards, sidecars := shardsSlice(opts.Prefix), sidecarsSlice(opts.Prefix)
	if err := startSlice(ctx, conn, shards, "Ailurus shards, one pinned process per core", shardsSliceProps(opts)); err != nil {
		release()
		return nil, err
	}
	if err := startSlice(ctx, conn, sidecars, "Ailurus sidecars (uploader, transformer)", sidecarsSliceProps(opts)); err != nil {
		_ = sdRole{conn: conn, slice: shards}.delete()
		release()
		return nil, err
	}
	return &Groups{
		mode:     ModeSystemd,
		shards:   sdRole{conn: conn, slice: shards, prefix: opts.Prefix, kind: "shard"},
		sidecars: sdRole{conn: conn, slice: sidecars, prefix: opts.Prefix, kind: "sidecar"},
		release:  release,
	}, nil
}
