//go:build linux

package config

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// EffectiveSMP returns the number of CPUs this process may run on: its CPU
// affinity mask (taskset, systemd CPUAffinity=, a cpuset cgroup), not the
// number of CPUs in the machine. It is the shard count when smp is 0. Always
// at least 1.
//
// unix.CPUSet covers CPUs 0-1023; on a larger machine the call fails and
// runtime.NumCPU (which Go computes from the same mask at startup) is used.
func EffectiveSMP() int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err == nil {
		if n := set.Count(); n > 0 {
			return n
		}
	}
	return max(runtime.NumCPU(), 1)
}
