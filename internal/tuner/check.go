package tuner

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Thresholds of the host checks.
const (
	MinMemoryPerCPU = 2 << 30  // bytes of available memory per CPU
	MinFreeDisk     = 10 << 30 // bytes free in the data directory
)

// CheckResult is one row of `ailurus check`.
type CheckResult struct {
	Condition string
	Required  string
	Current   string
	Severity  Severity
	Passed    bool
}

// Check runs every host check and every tuner's read. configErr is the
// result of loading the configuration (nil when valid).
func Check(h *Host, configErr error) []CheckResult {
	out := []CheckResult{configRow(configErr), dataDirWritable(h), memoryPerCPU(h), freeDisk(h), fsType(h)}
	for _, t := range All() {
		st, err := t.read(h)
		r := CheckResult{Condition: t.Condition, Required: st.Required, Current: st.Current, Severity: t.Severity, Passed: st.OK}
		switch {
		case errors.Is(err, ErrUnsupported):
			// Nothing to tune on this host: not a failure.
			r.Current, r.Passed = "n/a: "+strings.TrimPrefix(err.Error(), ErrUnsupported.Error()+": "), true
		case err != nil:
			r.Current, r.Passed = "error: "+err.Error(), false
		}
		out = append(out, r)
	}
	return out
}

// FatalFailed reports whether a Fatal check failed.
func FatalFailed(rs []CheckResult) bool {
	for _, r := range rs {
		if r.Severity == Fatal && !r.Passed {
			return true
		}
	}
	return false
}

func configRow(err error) CheckResult {
	r := CheckResult{Condition: "Config file valid", Required: "valid", Current: "valid", Severity: Fatal, Passed: err == nil}
	if err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		r.Current = first
	}
	return r
}

// dataDirWritable creates and removes a file in the data directory (or, if
// it does not exist yet, in its nearest existing parent, where the node will
// create it).
func dataDirWritable(h *Host) CheckResult {
	r := CheckResult{Condition: "Data directory writable", Required: h.DataDir, Severity: Fatal}
	f, err := os.CreateTemp(existingParent(h.DataDir), ".ailurus-check-*")
	if err != nil {
		r.Current = err.Error()
		return r
	}
	f.Close()
	os.Remove(f.Name())
	r.Current, r.Passed = "writable", true
	return r
}

// memAvailable reads MemAvailable from /proc/meminfo, in bytes.
func memAvailable(h *Host) (int64, error) {
	f, err := os.Open(h.path("/proc/meminfo"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no MemAvailable in /proc/meminfo")
}

func memoryPerCPU(h *Host) CheckResult {
	r := CheckResult{Condition: "Free memory per CPU", Required: ">= " + formatBytes(MinMemoryPerCPU), Severity: Warning}
	avail, err := memAvailable(h)
	if err != nil {
		r.Current = "error: " + err.Error()
		return r
	}
	cpus := max(h.CPUs, 1)
	per := avail / int64(cpus)
	r.Current = fmt.Sprintf("%s (%s / %d CPUs)", formatBytes(per), formatBytes(avail), cpus)
	r.Passed = per >= MinMemoryPerCPU
	return r
}

// existingParent is dir or its nearest ancestor that exists.
func existingParent(dir string) string {
	for {
		if _, err := os.Stat(dir); err == nil || dir == "/" || dir == "." {
			return dir
		}
		dir = filepath.Dir(dir)
	}
}

func freeDisk(h *Host) CheckResult {
	r := CheckResult{Condition: "Data directory free space", Required: ">= " + formatBytes(MinFreeDisk), Severity: Warning}
	var st unix.Statfs_t
	if err := h.Statfs(existingParent(h.DataDir), &st); err != nil {
		r.Current = "error: " + err.Error()
		return r
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	r.Current, r.Passed = formatBytes(free), free >= MinFreeDisk
	return r
}

// Filesystem magic numbers (statfs f_type) of the filesystems worth naming.
var fsNames = map[int64]string{
	0x58465342: "xfs", 0xEF53: "ext4", 0x9123683E: "btrfs", 0x2FC12FC1: "zfs",
	0x01021994: "tmpfs", 0x794c7630: "overlay", 0x6969: "nfs", 0xFF534D42: "cifs",
	0x65735546: "fuse",
}

// FSType names the filesystem of a statfs result ("xfs"), or its magic.
func FSType(st *unix.Statfs_t) string {
	if n, ok := fsNames[int64(st.Type)]; ok {
		return n
	}
	return fmt.Sprintf("unknown (0x%x)", st.Type)
}

func fsType(h *Host) CheckResult {
	r := CheckResult{Condition: "Data directory filesystem type", Required: "xfs or ext4", Severity: Warning}
	var st unix.Statfs_t
	if err := h.Statfs(existingParent(h.DataDir), &st); err != nil {
		r.Current = "error: " + err.Error()
		return r
	}
	r.Current = FSType(&st)
	r.Passed = r.Current == "xfs" || r.Current == "ext4"
	return r
}
