//go:build linux

package cgroups

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cg "github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup1"
)

func uniquePrefix() string {
	return fmt.Sprintf("ailurus-test-%d-%d", os.Getpid(), time.Now().UnixNano())
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func pidsIn(t *testing.T, path string) []string {
	return strings.Fields(readTrim(t, path))
}

// TestV1Real creates the v1 sub-cgroups on this host, moves a child into the
// sidecars' cgroup, and checks the kernel's view of quota and membership.
func TestV1Real(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root: this host's cgroupfs is root's")
	}
	if m := cg.Mode(); m != cg.Legacy && m != cg.Hybrid {
		t.Skip("no cgroup v1 hierarchy on this host")
	}
	if _, err := os.Stat("/sys/fs/cgroup/cpu"); err != nil {
		t.Skip("no cgroup v1 cpu controller: ", err)
	}
	// A group of its own between the test's cgroup and the roles', so that
	// concurrent runs (and agents started by other tests) do not collide.
	sub := uniquePrefix()
	dir := func(ctrl cgroup1.Name, p string) string {
		rel, err := cgroup1.NestedPath(filepath.Join(sub, p))(ctrl)
		if err != nil {
			t.Fatal(err)
		}
		return filepath.Join("/sys/fs/cgroup", string(ctrl), rel)
	}
	t.Cleanup(func() {
		_ = os.Remove(dir(cgroup1.Cpu, ""))
		_ = os.Remove(dir(cgroup1.Memory, ""))
	})
	// ModeAuto: a hybrid or legacy host with a cpu controller is v1.
	g, reason := Setup(Options{v1Sub: sub})
	if reason != "" {
		t.Fatalf("Setup: %s", reason)
	}
	t.Cleanup(func() { _ = g.Close() })
	if g.Mode() != ModeV1 {
		t.Fatalf("mode %q, want v1", g.Mode())
	}
	shardsDir, sidecarsDir := dir(cgroup1.Cpu, "shards"), dir(cgroup1.Cpu, "sidecars")
	memDir := dir(cgroup1.Memory, "sidecars")

	if got := readTrim(t, filepath.Join(shardsDir, "cpu.shares")); got != "8192" {
		t.Errorf("shards cpu.shares = %s, want 8192", got)
	}
	if got := readTrim(t, filepath.Join(sidecarsDir, "cpu.cfs_quota_us")); got != "20000" {
		t.Errorf("sidecars cpu.cfs_quota_us = %s, want 20000", got)
	}
	if got := readTrim(t, filepath.Join(sidecarsDir, "cpu.cfs_period_us")); got != "100000" {
		t.Errorf("sidecars cpu.cfs_period_us = %s, want 100000", got)
	}
	if got := readTrim(t, filepath.Join(memDir, "memory.limit_in_bytes")); got != strconv.Itoa(1<<30) {
		t.Errorf("sidecars memory.limit_in_bytes = %s, want %d", got, 1<<30)
	}

	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := false
	t.Cleanup(func() {
		if !done {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	pid := strconv.Itoa(cmd.Process.Pid)
	if err := g.AddSidecar(cmd.Process.Pid); err != nil {
		t.Fatalf("AddSidecar: %v", err)
	}
	if !slices.Contains(pidsIn(t, filepath.Join(sidecarsDir, "cgroup.procs")), pid) {
		t.Errorf("pid %s not in %s/cgroup.procs", pid, sidecarsDir)
	}
	if !slices.Contains(pidsIn(t, filepath.Join(sidecarsDir, "tasks")), pid) {
		t.Errorf("pid %s not in %s/tasks", pid, sidecarsDir)
	}
	if !slices.Contains(pidsIn(t, filepath.Join(memDir, "cgroup.procs")), pid) {
		t.Errorf("pid %s not in %s/cgroup.procs", pid, memDir)
	}

	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	done = true
	if err := g.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, d := range []string{shardsDir, sidecarsDir, memDir} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s still exists after Close (err %v)", d, err)
		}
	}
	if err := g.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func checkNoop(t *testing.T, g *Groups) {
	t.Helper()
	if g.Mode() != ModeNone {
		t.Errorf("mode %q, want none", g.Mode())
	}
	if err := g.AddShard(os.Getpid()); err != nil {
		t.Errorf("AddShard on no-op: %v", err)
	}
	if err := g.AddSidecar(os.Getpid()); err != nil {
		t.Errorf("AddSidecar on no-op: %v", err)
	}
	if err := g.Close(); err != nil {
		t.Errorf("Close on no-op: %v", err)
	}
}

func TestNoop(t *testing.T) {
	t.Run("disabled", func(t *testing.T) {
		g, reason := Setup(Options{Mode: ModeNone})
		if reason == "" {
			t.Fatal("no reason")
		}
		checkNoop(t, g)
	})
	t.Run("missing-v2-mount", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "absent")
		g, reason := Setup(Options{Mode: ModeV2, V2Mountpoint: dir, V2Group: "/"})
		if reason == "" {
			t.Fatal("no reason")
		}
		checkNoop(t, g)
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("Setup created %s", dir)
		}
	})
	t.Run("v2-without-cpu-memory", func(t *testing.T) {
		mnt := t.TempDir()
		if err := os.WriteFile(filepath.Join(mnt, "cgroup.controllers"), []byte("hugetlb\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		g, reason := Setup(Options{Mode: ModeV2, V2Mountpoint: mnt, V2Group: "/"})
		if reason != "cgroup2 lacks cpu/memory controllers" {
			t.Fatalf("reason %q", reason)
		}
		checkNoop(t, g)
	})
	t.Run("nil", func(t *testing.T) {
		checkNoop(t, nil)
	})
}

// fakeV2 lays out the files containerd's cgroup2 manager reads and writes
// under a temp mountpoint, with the agent's cgroup at /ailurus.service
// holding agentProcs. The mountpoint's own cgroup.subtree_control is
// read-only to non-root, as the root cgroup's is to a delegated service.
func fakeV2(t *testing.T, agentProcs string) string {
	mnt := t.TempDir()
	files := map[string]string{
		"cgroup.controllers":                     "cpuset cpu io memory pids\n",
		"cgroup.subtree_control":                 "",
		"ailurus.service/cgroup.controllers":     "cpu io memory pids\n",
		"ailurus.service/cgroup.subtree_control": "",
		"ailurus.service/cgroup.procs":           agentProcs,
	}
	for name, body := range files {
		p := filepath.Join(mnt, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(mnt, "cgroup.subtree_control"), 0o444); err != nil {
		t.Fatal(err)
	}
	return mnt
}

// readFake reads a file Setup wrote in a fake tree: containerd creates them
// with mode 0, which only root may read, so the owner opens it up first.
func readFake(t *testing.T, path string) string {
	t.Helper()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	return readTrim(t, path)
}

// TestV2FileWrites runs Setup against containerd's cgroup2 manager pointed at
// a temp mountpoint and checks the files it writes: this host's cgroup2 has
// no cpu or memory controller.
func TestV2FileWrites(t *testing.T) {
	mnt := fakeV2(t, "")
	g, reason := Setup(Options{Mode: ModeV2, V2Mountpoint: mnt, V2Group: "/ailurus.service"})
	if reason != "" {
		t.Fatalf("Setup: %s", reason)
	}
	if g.Mode() != ModeV2 {
		t.Fatalf("mode %q, want v2", g.Mode())
	}
	svc := filepath.Join(mnt, "ailurus.service")
	shards, sidecars := filepath.Join(svc, "shards"), filepath.Join(svc, "sidecars")
	want := map[string]string{
		filepath.Join(shards, "cpu.weight"):          "1000",
		filepath.Join(sidecars, "cpu.max"):           "20000 100000",
		filepath.Join(sidecars, "memory.max"):        strconv.Itoa(1 << 30),
		filepath.Join(svc, "cgroup.subtree_control"): "+cpu +memory",
		filepath.Join(svc, "cgroup.procs"):           "",
	}
	for p, w := range want {
		if got := readFake(t, p); got != w {
			t.Errorf("%s = %q, want %q", p, got, w)
		}
	}
	if _, err := os.Stat(filepath.Join(shards, "memory.max")); !os.IsNotExist(err) {
		t.Errorf("shards got a memory limit (err %v)", err)
	}
	if _, err := os.Stat(filepath.Join(svc, "agent")); !os.IsNotExist(err) {
		t.Errorf("agent leaf created although the agent's cgroup did not list it")
	}

	if err := g.AddSidecar(4242); err != nil {
		t.Fatal(err)
	}
	if err := g.AddShard(4343); err != nil {
		t.Fatal(err)
	}
	if got := readFake(t, filepath.Join(sidecars, "cgroup.procs")); got != "4242" {
		t.Errorf("sidecars cgroup.procs = %q", got)
	}
	if got := readFake(t, filepath.Join(shards, "cgroup.procs")); got != "4343" {
		t.Errorf("shards cgroup.procs = %q", got)
	}
	// Close refuses while a cgroup still lists processes, and can be retried.
	if err := g.Close(); err == nil {
		t.Fatal("Close succeeded with processes listed")
	}

	for _, d := range []string{shards, sidecars} { // the processes exited
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, d := range []string{shards, sidecars} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s still exists after Close", d)
		}
	}
}

// TestV2MovesAgentToLeaf: cgroup2 forbids processes in a cgroup that hands
// controllers to children, so the agent leaves the service's cgroup for a
// leaf, agent, before shards and sidecars get theirs.
func TestV2MovesAgentToLeaf(t *testing.T) {
	mnt := fakeV2(t, strconv.Itoa(os.Getpid())+"\n")
	g, reason := Setup(Options{Mode: ModeV2, V2Mountpoint: mnt, V2Group: "/ailurus.service"})
	if reason != "" {
		t.Fatalf("Setup: %s", reason)
	}
	if got := readFake(t, filepath.Join(mnt, "ailurus.service/agent/cgroup.procs")); got != strconv.Itoa(os.Getpid()) {
		t.Errorf("agent leaf cgroup.procs = %q, want own pid", got)
	}
	if err := g.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Only the roles go: the agent is still in its leaf.
	if _, err := os.Stat(filepath.Join(mnt, "ailurus.service/agent")); err != nil {
		t.Errorf("agent leaf removed by Close: %v", err)
	}
}

// TestV2LeafMoveUndone: when the roles cannot be created after the agent
// moved to its leaf, it moves back to the service's cgroup.
func TestV2LeafMoveUndone(t *testing.T) {
	mnt := fakeV2(t, strconv.Itoa(os.Getpid())+"\n")
	// A file where the shards' cgroup goes: its mkdir fails.
	if err := os.WriteFile(filepath.Join(mnt, "ailurus.service/shards"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	g, reason := Setup(Options{Mode: ModeV2, V2Mountpoint: mnt, V2Group: "/ailurus.service"})
	if reason == "" {
		t.Fatal("Setup succeeded")
	}
	checkNoop(t, g)
	// (The leaf's rmdir fails here, unlike on cgroupfs: a plain directory
	// keeps the cgroup.procs file written into it.)
	if got := pidsIn(t, filepath.Join(mnt, "ailurus.service/cgroup.procs")); !slices.Contains(got, strconv.Itoa(os.Getpid())) {
		t.Errorf("service cgroup.procs = %q, want the agent back", got)
	}
}

func TestQuotaPercent(t *testing.T) {
	for percent, want := range map[int]int64{1: 1000, 10: 10000, 20: DefaultSidecarCPUQuota, 150: 150000} {
		if got := QuotaPercent(percent); got != want {
			t.Errorf("QuotaPercent(%d) = %d, want %d", percent, got, want)
		}
	}
}

// TestSidecarLimitsReachBackends: limits other than the defaults, as the
// node config gives them, are what each backend hands systemd or writes.
func TestSidecarLimitsReachBackends(t *testing.T) {
	const mem = 512 << 20
	limits := func(o Options) Options {
		o.SidecarCPUQuota, o.SidecarMemoryLimit = QuotaPercent(10), mem
		return o
	}
	t.Run("systemd", func(t *testing.T) {
		f := newFake()
		g, reason := Install(context.Background(), limits(systemdOpts(t, f, nil)))
		if reason != "" {
			t.Fatalf("Install: %s", reason)
		}
		defer g.Close()
		got := props(f.units["ailurus-sidecars.slice"])
		if got["CPUQuotaPerSecUSec"] != uint64(100000) || got["CPUQuotaPeriodUSec"] != uint64(100000) || got["MemoryMax"] != uint64(mem) {
			t.Errorf("ailurus-sidecars.slice %v, want CPUQuotaPerSecUSec=100000 (CPUQuota=10%%), CPUQuotaPeriodUSec=100000, MemoryMax=%d", got, mem)
		}
	})
	t.Run("v2", func(t *testing.T) {
		mnt := fakeV2(t, "")
		g, reason := Setup(limits(Options{Mode: ModeV2, V2Mountpoint: mnt, V2Group: "/ailurus.service"}))
		if reason != "" {
			t.Fatalf("Setup: %s", reason)
		}
		defer g.Close()
		sidecars := filepath.Join(mnt, "ailurus.service/sidecars")
		if got := readFake(t, filepath.Join(sidecars, "cpu.max")); got != "10000 100000" {
			t.Errorf("cpu.max = %q, want 10000 100000", got)
		}
		if got := readFake(t, filepath.Join(sidecars, "memory.max")); got != strconv.Itoa(mem) {
			t.Errorf("memory.max = %q, want %d", got, mem)
		}
	})
	t.Run("v1", func(t *testing.T) {
		root, own := fakeV1(t)
		g, reason := Setup(limits(Options{Mode: ModeV1, V1Root: root}))
		if reason != "" {
			t.Fatalf("Setup: %s", reason)
		}
		defer g.Close()
		for p, w := range map[string]string{
			filepath.Join(own["cpu"], "sidecars/cpu.cfs_quota_us"):         "10000",
			filepath.Join(own["cpu"], "sidecars/cpu.cfs_period_us"):        "100000",
			filepath.Join(own["memory"], "sidecars/memory.limit_in_bytes"): strconv.Itoa(mem),
		} {
			if got := readFake(t, p); got != w {
				t.Errorf("%s = %q, want %q", p, got, w)
			}
		}
	})
}
