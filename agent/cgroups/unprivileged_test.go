//go:build linux

package cgroups

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/containerd/cgroups/v3/cgroup1"
)

// nobody is the unprivileged user the test re-executes itself as when run as
// root (Debian's and Fedora's nobody).
const nobody = 65534

// runUnprivileged reports whether the calling test should run its body here:
// yes when the tests already run as a user other than root. As root it runs
// the test again in a copy of the test binary as nobody, fails the test if
// that run does not pass, and reports false.
func runUnprivileged(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return true
	}
	// A directory nobody can enter, for the binary and its temp dirs.
	dir, err := os.MkdirTemp("", "ailurus-cgroups-unpriv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o1777); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "cgroups.test")
	if err := copyFile(os.Args[0], bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("as uid %d: %v\n%s", nobody, err, out)
	}
	t.Logf("as uid %d:\n%s", nobody, out)
	return false
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// fakeV1 lays out a v1 tree with the cpu and memory controllers, the
// agent's own cgroup of each (from /proc/self/cgroup) already there, as
// cgroupfs would have it.
func fakeV1(t *testing.T) (root string, own map[string]string) {
	root = t.TempDir()
	own = map[string]string{}
	paths, err := cgroup1.ParseCgroupFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"cpu", "memory"} {
		p, ok := paths[c]
		if !ok {
			t.Skipf("this process has no v1 %s cgroup", c)
		}
		own[c] = filepath.Join(root, c, p)
		if err := os.MkdirAll(own[c], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root, own
}

// TestSetupUnprivileged: the cgroupfs backend does not ask who the agent is.
// Without root it succeeds where the agent's cgroup is its own (what
// Delegate=yes arranges) and gives a reason naming the refusal where it is
// not, in both hierarchies.
func TestSetupUnprivileged(t *testing.T) {
	if !runUnprivileged(t) {
		return
	}
	self := strconv.Itoa(os.Getpid())

	t.Run("v2-delegated", func(t *testing.T) {
		mnt := fakeV2(t, self+"\n")
		g, reason := Setup(Options{Mode: ModeV2, V2Mountpoint: mnt, V2Group: "/ailurus.service"})
		if reason != "" {
			t.Fatalf("Setup: %s", reason)
		}
		defer g.Close()
		svc := filepath.Join(mnt, "ailurus.service")
		for p, w := range map[string]string{
			filepath.Join(svc, "agent/cgroup.procs"):     self,
			filepath.Join(svc, "cgroup.subtree_control"): "+cpu +memory",
			filepath.Join(svc, "shards/cpu.weight"):      "1000",
			filepath.Join(svc, "sidecars/cpu.max"):       "20000 100000",
			filepath.Join(svc, "sidecars/memory.max"):    strconv.Itoa(1 << 30),
		} {
			if got := readFake(t, p); got != w {
				t.Errorf("%s = %q, want %q", p, got, w)
			}
		}
		// Writing the root's subtree_control is refused and does not matter:
		// it already hands cpu and memory down.
		if got := readTrim(t, filepath.Join(mnt, "cgroup.subtree_control")); got != "" {
			t.Errorf("root cgroup.subtree_control = %q, want it untouched", got)
		}
	})

	t.Run("v2-not-delegated", func(t *testing.T) {
		mnt := fakeV2(t, self+"\n")
		svc := filepath.Join(mnt, "ailurus.service")
		for _, f := range []string{"cgroup.procs", "cgroup.subtree_control"} {
			if err := os.Chmod(filepath.Join(svc, f), 0o444); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(svc, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(svc, 0o755) })
		g, reason := Setup(Options{Mode: ModeV2, V2Mountpoint: mnt, V2Group: "/ailurus.service"})
		checkNoop(t, g)
		if !strings.Contains(reason, "not delegated") || !strings.Contains(reason, "permission denied") {
			t.Errorf("reason %q, want a refusal naming the permission", reason)
		}
		if entries, _ := os.ReadDir(svc); len(entries) != 3 {
			t.Errorf("Setup left %d entries in the service's cgroup, want the 3 it had", len(entries))
		}
	})

	t.Run("v1-delegated", func(t *testing.T) {
		root, own := fakeV1(t)
		g, reason := Setup(Options{Mode: ModeV1, V1Root: root})
		if reason != "" {
			t.Fatalf("Setup: %s", reason)
		}
		defer g.Close()
		for p, w := range map[string]string{
			filepath.Join(own["cpu"], "shards/cpu.shares"):                 "8192",
			filepath.Join(own["cpu"], "sidecars/cpu.cfs_quota_us"):         "20000",
			filepath.Join(own["memory"], "sidecars/memory.limit_in_bytes"): strconv.Itoa(1 << 30),
		} {
			if got := readFake(t, p); got != w {
				t.Errorf("%s = %q, want %q", p, got, w)
			}
		}
	})

	t.Run("v1-not-delegated", func(t *testing.T) {
		root, own := fakeV1(t)
		if err := os.Chmod(own["cpu"], 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(own["cpu"], 0o755) })
		g, reason := Setup(Options{Mode: ModeV1, V1Root: root})
		checkNoop(t, g)
		if !strings.Contains(reason, "not delegated") || !strings.Contains(reason, "permission denied") {
			t.Errorf("reason %q, want a refusal naming the permission", reason)
		}
	})
}
