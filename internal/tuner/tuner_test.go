package tuner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeHost builds an untuned host under t.TempDir(): a VM-like machine with
// the data directory on partition sda1 of an xfs disk.
func fakeHost(t *testing.T) *Host {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"/proc/sys/fs/aio-max-nr":                                            "65536\n",
		"/proc/sys/vm/swappiness":                                            "60\n",
		"/proc/sys/kernel/core_pattern":                                      "core\n",
		"/proc/meminfo":                                                      "MemTotal:       16777216 kB\nMemAvailable:    8388608 kB\n",
		"/sys/kernel/mm/transparent_hugepage/enabled":                        "always [madvise] never\n",
		"/sys/devices/system/clocksource/clocksource0/current_clocksource":   "kvm-clock\n",
		"/sys/devices/system/clocksource/clocksource0/available_clocksource": "kvm-clock tsc acpi_pm\n",
		"/sys/devices/pci0/block/sda/queue/scheduler":                        "[mq-deadline] none\n",
		"/sys/devices/pci0/block/sda/queue/nomerges":                         "0\n",
		"/sys/devices/pci0/block/sda/sda1/partition":                         "1\n",
		"/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor":              "powersave\n",
		"/sys/devices/system/cpu/cpu0/cpufreq/scaling_available_governors":   "performance powersave\n",
		"/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor":              "powersave\n",
		"/sys/devices/system/cpu/cpu1/cpufreq/scaling_available_governors":   "performance powersave\n",
	}
	for p, v := range files {
		writeFile(t, filepath.Join(root, p), v)
	}
	if err := os.MkdirAll(filepath.Join(root, "sys/dev/block"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../devices/pci0/block/sda/sda1", filepath.Join(root, "sys/dev/block/8:1")); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(root, "var/lib/ailurus/data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	return &Host{
		Root:        root,
		DataDir:     data,
		CoredumpDir: filepath.Join(root, "var/lib/ailurus/coredump"),
		BallastSize: 64 << 10,
		CPUs:        2,
		Dev:         func(string) (uint32, uint32, error) { return 8, 1, nil },
		Statfs: func(_ string, st *unix.Statfs_t) error {
			*st = unix.Statfs_t{Type: 0x58465342, Bsize: 4096, Bavail: 100 << 30 / 4096}
			return nil
		},
	}
}

func writeFile(t *testing.T, p, v string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, h *Host, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h.Root, p))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// hostFiles are the files each tuner writes, with the value it must write.
func wantWritten(h *Host) map[string]string {
	return map[string]string{
		"/proc/sys/fs/aio-max-nr":                                          "1048576",
		"/proc/sys/vm/swappiness":                                          "1",
		"/proc/sys/kernel/core_pattern":                                    filepath.Join(h.CoredumpDir, "core.%e.%p.%t"),
		"/sys/kernel/mm/transparent_hugepage/enabled":                      "always",
		"/sys/devices/system/clocksource/clocksource0/current_clocksource": "tsc",
		"/sys/devices/pci0/block/sda/queue/scheduler":                      "none",
		"/sys/devices/pci0/block/sda/queue/nomerges":                       "2",
		"/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor":            "performance",
		"/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor":            "performance",
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	h := fakeHost(t)
	before := readFile(t, h, "/proc/sys/vm/swappiness")
	for _, tu := range All() {
		r := Tune(h, tu, true)
		if r.Action != ActionWouldChange {
			t.Errorf("%s: action %q (err %v), want %q", tu.Name, r.Action, r.Err, ActionWouldChange)
		}
		if r.Before.OK || r.Before.Current == r.Before.Required {
			t.Errorf("%s: untuned host reads as tuned: %+v", tu.Name, r.Before)
		}
	}
	if got := readFile(t, h, "/proc/sys/vm/swappiness"); got != before {
		t.Fatalf("dry run wrote swappiness: %q", got)
	}
	if _, err := os.Stat(filepath.Join(h.DataDir, BallastName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dry run created the ballast file: %v", err)
	}
}

func TestTuneAllWritesAndIsIdempotent(t *testing.T) {
	h := fakeHost(t)
	// The fake /sys keeps what is written; a real scheduler file would show
	// "[none]" afterwards, so mimic the kernel for choice files.
	h.WriteFile = func(p, v string) error {
		if strings.HasSuffix(p, "/queue/scheduler") {
			v = "mq-deadline [" + v + "]"
		}
		if strings.HasSuffix(p, "transparent_hugepage/enabled") {
			v = "[" + v + "] madvise never"
		}
		return os.WriteFile(p, []byte(v+"\n"), 0o644)
	}
	for _, tu := range All() {
		if r := Tune(h, tu, false); r.Action != ActionChanged {
			t.Errorf("%s: action %q (err %v), want %q", tu.Name, r.Action, r.Err, ActionChanged)
		}
	}
	for p, want := range wantWritten(h) {
		got := readFile(t, h, p)
		if sel, _ := bracketed(got); sel != "" {
			got = sel
		}
		if got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	fi, err := os.Stat(filepath.Join(h.DataDir, BallastName))
	if err != nil || fi.Size() != h.BallastSize {
		t.Errorf("ballast: %v, size %d, want %d", err, fi.Size(), h.BallastSize)
	}
	if _, err := os.Stat(h.CoredumpDir); err != nil {
		t.Errorf("coredump dir not created: %v", err)
	}
	for _, tu := range All() {
		if r := Tune(h, tu, false); r.Action != ActionOK {
			t.Errorf("second run %s: action %q (err %v), want ok", tu.Name, r.Action, r.Err)
		}
	}
}

func TestReadOnlyProcSaysWhatToDo(t *testing.T) {
	h := fakeHost(t)
	h.WriteFile = func(p, v string) error { return &os.PathError{Op: "open", Path: p, Err: syscall.EROFS} }
	r := Tune(h, swappiness(), false)
	if r.Action != ActionCannotWrite || !errors.Is(r.Err, ErrCannotWrite) {
		t.Fatalf("action %q err %v, want cannot write", r.Action, r.Err)
	}
	if !strings.Contains(r.Err.Error(), "read-only file system") {
		t.Errorf("error does not say why: %v", r.Err)
	}
	if !strings.Contains(r.Hint, "sysctl -w vm.swappiness=") || !strings.Contains(r.Hint, "/etc/sysctl.d/") {
		t.Errorf("hint %q does not say how to set and keep it", r.Hint)
	}
	if !r.Failed() {
		t.Error("cannot write must count as failed")
	}
	r = Tune(h, diskScheduler(), false)
	if r.Action != ActionCannotWrite || !strings.Contains(r.Hint, "/sys/block/sda/queue/scheduler") {
		t.Errorf("disk scheduler: action %q hint %q; want the whole disk sda named", r.Action, r.Hint)
	}
}

func TestUnsupportedOnVMAndTmpfs(t *testing.T) {
	h := fakeHost(t)
	os.RemoveAll(filepath.Join(h.Root, "sys/devices/system/cpu"))
	h.Dev = func(string) (uint32, uint32, error) { return 0, 45, nil } // tmpfs
	writeFile(t, filepath.Join(h.Root, "/sys/devices/system/clocksource/clocksource0/available_clocksource"), "kvm-clock acpi_pm\n")
	for _, tu := range []*Tuner{cpuGovernor(), diskScheduler(), diskNomerges(), clocksource()} {
		r := Tune(h, tu, false)
		if r.Action != ActionUnsupported || r.Failed() {
			t.Errorf("%s: action %q err %v, want %q", tu.Name, r.Action, r.Err, ActionUnsupported)
		}
	}
}

func TestSchedulerNoopOnLegacyKernels(t *testing.T) {
	h := fakeHost(t)
	writeFile(t, filepath.Join(h.Root, "/sys/devices/pci0/block/sda/queue/scheduler"), "noop deadline [cfq]\n")
	st, err := diskScheduler().read(h)
	if err != nil || st.Required != "noop" || st.Current != "cfq" || st.OK {
		t.Fatalf("state %+v err %v; want cfq -> noop", st, err)
	}
}

func TestSelect(t *testing.T) {
	ts, err := Select([]string{"swappiness", "aio_events", "aio-max-nr"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].Name != "aio-max-nr" || ts[1].Name != "swappiness" {
		t.Fatalf("selected %v", names(ts))
	}
	if ts, _ := Select([]string{"all"}); len(ts) != len(All()) {
		t.Fatalf("all selected %d tuners", len(ts))
	}
	if _, err := Select([]string{"swapiness"}); err == nil || !strings.Contains(err.Error(), "known: all, aio-max-nr") {
		t.Fatalf("unknown tuner error %v", err)
	}
}

func names(ts []*Tuner) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

func TestCheck(t *testing.T) {
	h := fakeHost(t)
	rows := Check(h, nil)
	byCond := map[string]CheckResult{}
	for _, r := range rows {
		byCond[r.Condition] = r
	}
	if FatalFailed(rows) {
		t.Fatalf("fatal failure on a valid config and writable data dir: %+v", rows)
	}
	if r := byCond["Free memory per CPU"]; !r.Passed || !strings.HasPrefix(r.Current, "4.0 GiB") {
		t.Errorf("memory per CPU %+v; want 4.0 GiB passed (8 GiB / 2 CPUs)", r)
	}
	if r := byCond["Data directory filesystem type"]; !r.Passed || r.Current != "xfs" {
		t.Errorf("fs type %+v", r)
	}
	if r := byCond["Data directory free space"]; !r.Passed || r.Current != "100.0 GiB" {
		t.Errorf("free disk %+v", r)
	}
	if r := byCond["Swappiness"]; r.Passed || r.Current != "60" || r.Required != "1" || r.Severity != Warning {
		t.Errorf("swappiness %+v", r)
	}

	h.CPUs = 8 // 1 GiB per CPU
	h.Statfs = func(_ string, st *unix.Statfs_t) error {
		*st = unix.Statfs_t{Type: 0x01021994, Bsize: 4096, Bavail: 1}
		return nil
	}
	rows = Check(h, errors.New("/etc/ailurus/ailurus.yaml:3: redpanda.kafak_api: unknown key\nsecond problem"))
	byCond = map[string]CheckResult{}
	for _, r := range rows {
		byCond[r.Condition] = r
	}
	if !FatalFailed(rows) {
		t.Fatal("an invalid config must fail a fatal check")
	}
	if r := byCond["Config file valid"]; r.Passed || !strings.Contains(r.Current, "kafak_api") || strings.Contains(r.Current, "\n") {
		t.Errorf("config row %+v", r)
	}
	for _, c := range []string{"Free memory per CPU", "Data directory free space", "Data directory filesystem type"} {
		if byCond[c].Passed {
			t.Errorf("%s passed: %+v", c, byCond[c])
		}
	}
	if byCond["Data directory filesystem type"].Current != "tmpfs" {
		t.Errorf("fs type %+v", byCond["Data directory filesystem type"])
	}
}

func TestCheckDataDirNotWritable(t *testing.T) {
	h := fakeHost(t)
	h.DataDir = filepath.Join(h.Root, "file-not-dir", "data")
	writeFile(t, filepath.Join(h.Root, "file-not-dir"), "x")
	if !FatalFailed(Check(h, nil)) {
		t.Fatal("an unusable data directory must fail a fatal check")
	}
}

func TestNotRootSaysPermissionDenied(t *testing.T) {
	h := fakeHost(t)
	h.WriteFile = func(p, v string) error { return &os.PathError{Op: "open", Path: p, Err: syscall.EACCES} }
	r := Tune(h, aioMaxNr(), false)
	if r.Action != ActionCannotWrite || !strings.Contains(r.Err.Error(), "permission denied") {
		t.Fatalf("action %q err %v, want cannot write: permission denied", r.Action, r.Err)
	}
	h.WriteFile = func(p, v string) error { return &os.PathError{Op: "write", Path: p, Err: syscall.EINVAL} }
	if r := Tune(h, aioMaxNr(), false); r.Action != ActionFailed || r.Hint != "" {
		t.Fatalf("EINVAL: action %q hint %q, want a plain failure", r.Action, r.Hint)
	}
}
