// Package tuner reads and tunes the host settings an Ailurus node cares
// about (aio-max-nr, swappiness, transparent hugepages, clocksource, the data
// disk's scheduler and nomerges, CPU governor, ballast file, coredump
// location) and runs the startup checks of `ailurus check`. Every path goes
// through Host, so tests run against a fake /proc and /sys in a temp dir.
package tuner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Host is the machine being tuned or checked. The zero value is not usable:
// build it with NewHost, then override fields in tests.
type Host struct {
	// Root prefixes every /proc and /sys path; "/" in production, a temp dir
	// in tests.
	Root string
	// DataDir is the node's data directory (absolute, not under Root).
	DataDir string
	// CoredumpDir is where core_pattern sends cores.
	CoredumpDir string
	// BallastSize is the ballast file's size in bytes.
	BallastSize int64
	// CPUs is how many CPUs the node may use (free memory per CPU).
	CPUs int
	// Dev returns the block device (major, minor) holding path; major 0
	// means no block device (tmpfs, overlay).
	Dev func(path string) (major, minor uint32, err error)
	// Statfs reports the filesystem holding path.
	Statfs func(path string, st *unix.Statfs_t) error
	// WriteFile, if set, replaces the write of a /proc or /sys file (tests
	// inject EROFS with it: root may write any file of a temp tree).
	WriteFile func(path, value string) error
}

// Defaults of NewHost.
const (
	DefaultCoredumpDir = "/var/lib/ailurus/coredump"
	DefaultBallastSize = 1 << 30
)

// NewHost returns the real machine, with the node's data directory.
func NewHost(dataDir string) *Host {
	return &Host{
		Root:        "/",
		DataDir:     dataDir,
		CoredumpDir: DefaultCoredumpDir,
		BallastSize: DefaultBallastSize,
		CPUs:        runtime.NumCPU(),
		Dev:         statDev,
		Statfs:      unix.Statfs,
	}
}

func statDev(path string) (uint32, uint32, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, 0, err
	}
	return unix.Major(st.Dev), unix.Minor(st.Dev), nil
}

// path maps an absolute host path (/proc/..., /sys/...) under Root.
func (h *Host) path(p string) string { return filepath.Join(h.Root, p) }

// read returns the trimmed content of a /proc or /sys file.
func (h *Host) read(p string) (string, error) { return h.readAbs(h.path(p)) }

// write sets a /proc or /sys file; see writeAbs.
func (h *Host) write(p, v string) error { return h.writeAbs(h.path(p), v) }

// readAbs is read for a path already under Root.
func (h *Host) readAbs(p string) (string, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// writeAbs sets a file already under Root, and turns "not allowed" into
// ErrCannotWrite so callers can tell the operator what to do instead.
func (h *Host) writeAbs(p, v string) error {
	if h.WriteFile != nil {
		return cannotWrite(p, h.WriteFile(p, v))
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err == nil {
		_, err = f.WriteString(v)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	return cannotWrite(p, err)
}

// Sentinel errors.
var (
	// ErrCannotWrite: the setting exists but this process may not change it
	// (not root, read-only /proc/sys or /sys in a container).
	ErrCannotWrite = errors.New("cannot write")
	// ErrUnsupported: the host has no such setting (no cpufreq in a VM, no
	// tsc clocksource, data directory not on a block device).
	ErrUnsupported = errors.New("not supported on this host")
)

func cannotWrite(p string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EPERM) {
		why := "permission denied"
		if errors.Is(err, syscall.EROFS) {
			why = "read-only file system"
		}
		return fmt.Errorf("%w %s (%s): %w", ErrCannotWrite, p, why, err)
	}
	return err
}
