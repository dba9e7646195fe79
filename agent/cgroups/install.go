//go:build linux

package cgroups

import (
	"context"
	"os"
	"strings"
)

// Install installs the per-role groups before the agent spawns anything and
// returns them, or a no-op Groups and the reason it runs without quotas.
//
// With ModeAuto it asks systemd (transient slices over D-Bus) when the agent
// runs as a systemd service, and otherwise, or when systemd refuses (polkit
// on systemd older than 257), writes the cgroups itself (Setup): as root, or
// in the service's cgroup that systemd delegated to it (Delegate=yes, cgroup
// v2). When both fail, the reason names each backend tried:
// "systemd: ...; cgroupfs: ...". ModeSystemd uses systemd only; the other
// modes are Setup's.
func Install(ctx context.Context, opts Options) (*Groups, string) {
	opts.defaults()
	switch opts.Mode {
	case ModeSystemd:
		g, err := setupSystemd(ctx, opts)
		if err != nil {
			return &Groups{}, "systemd: " + err.Error()
		}
		return g, ""
	case ModeAuto:
		var reasons []string
		if underSystemd(opts) {
			g, err := setupSystemd(ctx, opts)
			if err == nil {
				return g, ""
			}
			reasons = append(reasons, "systemd: "+err.Error())
		}
		g, reason := Setup(opts)
		if reason == "" {
			return g, ""
		}
		if len(reasons) == 0 {
			return g, reason
		}
		return g, strings.Join(append(reasons, "cgroupfs: "+reason), "; ")
	default:
		return Setup(opts)
	}
}

// underSystemd reports whether the agent runs as a unit of a running system
// manager: systemd sets INVOCATION_ID for every unit it starts, and
// /run/systemd/system exists only while systemd is PID 1. A shell or a
// container without systemd has neither.
func underSystemd(opts Options) bool {
	if opts.getenv(EnvInvocationID) == "" {
		return false
	}
	st, err := os.Stat(opts.systemdDir)
	return err == nil && st.IsDir()
}

// EnvInvocationID is set by systemd in the environment of the units it runs.
const EnvInvocationID = "INVOCATION_ID"
