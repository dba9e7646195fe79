package tune

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ailurus/ailurus/internal/tuner"
)

// smallHost is a container-like host: only vm.swappiness and meminfo exist,
// the data directory is on tmpfs.
func smallHost(t *testing.T) *tuner.Host {
	t.Helper()
	root := t.TempDir()
	for p, v := range map[string]string{
		"proc/sys/vm/swappiness": "60\n",
		"proc/meminfo":           "MemAvailable:    8388608 kB\n",
	} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &tuner.Host{
		Root: root, DataDir: filepath.Join(root, "data"), CoredumpDir: filepath.Join(root, "core"),
		BallastSize: 4096, CPUs: 2,
		Dev: func(string) (uint32, uint32, error) { return 0, 40, nil },
		Statfs: func(_ string, st *unix.Statfs_t) error {
			*st = unix.Statfs_t{Type: 0x01021994, Bsize: 4096, Bavail: 1 << 30}
			return nil
		},
	}
}

func TestTuneDryRunPrintsAndKeeps(t *testing.T) {
	h := smallHost(t)
	ts, _ := tuner.Select([]string{"swappiness", "disk-scheduler"})
	var out bytes.Buffer
	if err := runTune(&out, h, ts, true); err != nil {
		t.Fatalf("dry run: %v\n%s", err, out.String())
	}
	s := out.String()
	if !lineHas(s, "swappiness", "60", "1", "would change") {
		t.Errorf("no 'would change' line for swappiness:\n%s", s)
	}
	if !strings.Contains(s, "not applicable") {
		t.Errorf("disk scheduler on tmpfs not reported as not applicable:\n%s", s)
	}
	if b, _ := os.ReadFile(filepath.Join(h.Root, "proc/sys/vm/swappiness")); string(b) != "60\n" {
		t.Fatalf("dry run wrote %q", b)
	}
}

func TestTuneCannotWriteSaysWhatToDo(t *testing.T) {
	h := smallHost(t)
	h.WriteFile = func(p, _ string) error { return &os.PathError{Op: "open", Path: p, Err: syscall.EROFS} }
	ts, _ := tuner.Select([]string{"swappiness"})
	var out bytes.Buffer
	err := runTune(&out, h, ts, false)
	if !errors.Is(err, ErrSomeFailed) {
		t.Fatalf("err %v, want ErrSomeFailed", err)
	}
	if !strings.Contains(out.String(), "what to do: as root on the host") || !strings.Contains(out.String(), "sysctl -w vm.swappiness=") {
		t.Errorf("no advice:\n%s", out.String())
	}
}

func TestTuneWrites(t *testing.T) {
	h := smallHost(t)
	ts, _ := tuner.Select([]string{"swappiness", "ballast_file"})
	var out bytes.Buffer
	if err := runTune(&out, h, ts, false); err != nil {
		t.Fatalf("tune: %v\n%s", err, out.String())
	}
	if b, _ := os.ReadFile(filepath.Join(h.Root, "proc/sys/vm/swappiness")); strings.TrimSpace(string(b)) != "1" {
		t.Fatalf("swappiness %q", b)
	}
	if !lineHas(out.String(), "ballast-file", "missing", "changed") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestCheckTableAndExit(t *testing.T) {
	h := smallHost(t)
	var out bytes.Buffer
	if err := runCheck(&out, h, nil); err != nil {
		t.Fatalf("check on a valid config: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{"CONDITION", "REQUIRED", "CURRENT", "SEVERITY", "PASSED", "Free memory per CPU", "tmpfs", "System check results: passed"} {
		if !strings.Contains(s, want) {
			t.Errorf("check output lacks %q:\n%s", want, s)
		}
	}
	out.Reset()
	err := runCheck(&out, h, errors.New("ailurus.yaml:2: redpanda.smp: invalid value"))
	if !errors.Is(err, ErrFatalCheck) {
		t.Fatalf("err %v, want ErrFatalCheck", err)
	}
	if !lineHas(out.String(), "Config file valid", "Fatal", "false") {
		t.Errorf("output:\n%s", out.String())
	}
}

// lineHas reports whether one line of s holds every word, in order.
func lineHas(s string, words ...string) bool {
	for _, line := range strings.Split(s, "\n") {
		rest, ok := line, true
		for _, w := range words {
			i := strings.Index(rest, w)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(w):]
		}
		if ok {
			return true
		}
	}
	return false
}
