//go:build !linux

package config

import "runtime"

// EffectiveSMP returns the number of CPUs this process may use. Ailurus nodes
// run on Linux (see smp_linux.go); this fallback only lets the package build
// and its tests run on a developer's other OS.
func EffectiveSMP() int { return max(runtime.NumCPU(), 1) }
