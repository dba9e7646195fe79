package tuner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The sysctl tuners: fs.aio-max-nr, vm.swappiness, kernel.core_pattern.
const (
	RequiredAioMaxNr   = 1048576 // Redpanda's value; each shard's async IO needs events
	RequiredSwappiness = 1       // swap only to avoid the OOM killer
)

// sysctlFile is the /proc/sys path of a sysctl key ("vm.swappiness").
func sysctlFile(key string) string {
	return "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
}

// sysctlHint tells how to set a sysctl where /proc/sys is writable, and keep it.
func sysctlHint(key, value string) string {
	return fmt.Sprintf("as root on the host (a container's /proc/sys is read-only): "+
		"sysctl -w %s=%q; keep it across reboots: echo '%s = %s' > /etc/sysctl.d/99-ailurus.conf", key, value, key, value)
}

func readSysctl(h *Host, key string) (string, error) {
	v, err := h.read(sysctlFile(key))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: no %s", ErrUnsupported, sysctlFile(key))
	}
	return v, err
}

func aioMaxNr() *Tuner {
	const key = "fs.aio-max-nr"
	want := strconv.Itoa(RequiredAioMaxNr)
	return &Tuner{
		Name: "aio-max-nr", Aliases: []string{"aio_events"}, Condition: "Max AIO events",
		read: func(h *Host) (State, error) {
			cur, err := readSysctl(h, key)
			if err != nil {
				return State{Required: ">= " + want}, err
			}
			n, err := strconv.Atoi(cur)
			return State{Current: cur, Required: ">= " + want, OK: err == nil && n >= RequiredAioMaxNr}, nil
		},
		apply: func(h *Host) error { return h.write(sysctlFile(key), want) },
		hint:  func(*Host) string { return sysctlHint(key, want) },
	}
}

func swappiness() *Tuner {
	const key = "vm.swappiness"
	want := strconv.Itoa(RequiredSwappiness)
	return &Tuner{
		Name: "swappiness", Condition: "Swappiness",
		read: func(h *Host) (State, error) {
			cur, err := readSysctl(h, key)
			if err != nil {
				return State{Required: want}, err
			}
			return State{Current: cur, Required: want, OK: cur == want}, nil
		},
		apply: func(h *Host) error { return h.write(sysctlFile(key), want) },
		hint:  func(*Host) string { return sysctlHint(key, want) },
	}
}

// corePattern is the core_pattern that sends cores to dir.
func corePattern(dir string) string { return filepath.Join(dir, "core.%e.%p.%t") }

func coredump() *Tuner {
	const key = "kernel.core_pattern"
	return &Tuner{
		Name: "coredump", Condition: "Core dump location",
		read: func(h *Host) (State, error) {
			want := corePattern(h.CoredumpDir)
			cur, err := readSysctl(h, key)
			if err != nil {
				return State{Required: want}, err
			}
			return State{Current: cur, Required: want, OK: cur == want}, nil
		},
		apply: func(h *Host) error {
			if err := os.MkdirAll(h.CoredumpDir, 0o750); err != nil {
				return cannotWrite(h.CoredumpDir, err)
			}
			return h.write(sysctlFile(key), corePattern(h.CoredumpDir))
		},
		hint: func(h *Host) string { return sysctlHint(key, corePattern(h.CoredumpDir)) },
	}
}
