//go:build linux

package cgroups

import (
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
		t.Skip("not root")
	}
	if m := cg.Mode(); m != cg.Legacy && m != cg.Hybrid {
		t.Skip("no cgroup v1 hierarchy on this host")
	}
	if err := writable("/sys/fs/cgroup/cpu"); err != nil {
		t.Skip("cgroup v1 cpu controller not writable: ", err)
	}
	prefix := uniquePrefix()
	// ModeAuto: a hybrid or legacy host with a writable cpu controller is v1.
	g, reason := Setup(Options{Prefix: prefix})
	if reason != "" {
		t.Fatalf("Setup: %s", reason)
	}
	t.Cleanup(func() { _ = g.Close() })
	if g.Mode() != ModeV1 {
		t.Fatalf("mode %q, want v1", g.Mode())
	}

	cpuDir := func(role string) string {
		p, err := cgroup1.NestedPath(prefix + "-" + role)(cgroup1.Cpu)
		if err != nil {
			t.Fatal(err)
		}
		return filepath.Join("/sys/fs/cgroup/cpu", p)
	}
	memPath, err := cgroup1.NestedPath(prefix + "-sidecars")(cgroup1.Memory)
	if err != nil {
		t.Fatal(err)
	}
	memDir := filepath.Join("/sys/fs/cgroup/memory", memPath)
	shardsDir, sidecarsDir := cpuDir("shards"), cpuDir("sidecars")

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
		if os.Geteuid() != 0 {
			t.Skip("not root: Setup stops before reading controllers")
		}
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
// under a temp mountpoint, with the agent's cgroup at /agent.
func fakeV2(t *testing.T, agentProcs string) string {
	mnt := t.TempDir()
	files := map[string]string{
		"cgroup.controllers":           "cpuset cpu io memory pids\n",
		"cgroup.subtree_control":       "",
		"agent/cgroup.controllers":     "cpuset cpu io memory pids\n",
		"agent/cgroup.subtree_control": "",
		"agent/cgroup.procs":           agentProcs,
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
	return mnt
}

// TestV2FileWrites runs Setup against containerd's cgroup2 manager pointed at
// a temp mountpoint and checks the files it writes: this host's cgroup2 has
// no cpu or memory controller.
func TestV2FileWrites(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root")
	}
	mnt := fakeV2(t, "")
	g, reason := Setup(Options{Prefix: "x", Mode: ModeV2, V2Mountpoint: mnt, V2Group: "/agent"})
	if reason != "" {
		t.Fatalf("Setup: %s", reason)
	}
	if g.Mode() != ModeV2 {
		t.Fatalf("mode %q, want v2", g.Mode())
	}
	shards, sidecars := filepath.Join(mnt, "agent/x-shards"), filepath.Join(mnt, "agent/x-sidecars")
	want := map[string]string{
		filepath.Join(shards, "cpu.weight"):                "1000",
		filepath.Join(sidecars, "cpu.max"):                 "20000 100000",
		filepath.Join(sidecars, "memory.max"):              strconv.Itoa(1 << 30),
		filepath.Join(mnt, "agent/cgroup.subtree_control"): "+cpu +memory",
	}
	for p, w := range want {
		if got := readTrim(t, p); got != w {
			t.Errorf("%s = %q, want %q", p, got, w)
		}
	}
	if _, err := os.Stat(filepath.Join(shards, "memory.max")); !os.IsNotExist(err) {
		t.Errorf("shards got a memory limit (err %v)", err)
	}
	if _, err := os.Stat(filepath.Join(mnt, "agent/x-agent")); !os.IsNotExist(err) {
		t.Errorf("agent leaf created although the agent cgroup was empty")
	}

	if err := g.AddSidecar(4242); err != nil {
		t.Fatal(err)
	}
	if err := g.AddShard(4343); err != nil {
		t.Fatal(err)
	}
	if got := readTrim(t, filepath.Join(sidecars, "cgroup.procs")); got != "4242" {
		t.Errorf("sidecars cgroup.procs = %q", got)
	}
	if got := readTrim(t, filepath.Join(shards, "cgroup.procs")); got != "4343" {
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
// controllers to children, so an occupied agent cgroup gets a leaf first.
func TestV2MovesAgentToLeaf(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root")
	}
	mnt := fakeV2(t, strconv.Itoa(os.Getpid())+"\n")
	g, reason := Setup(Options{Prefix: "y", Mode: ModeV2, V2Mountpoint: mnt, V2Group: "/agent"})
	if reason != "" {
		t.Fatalf("Setup: %s", reason)
	}
	if got := readTrim(t, filepath.Join(mnt, "agent/y-agent/cgroup.procs")); got != strconv.Itoa(os.Getpid()) {
		t.Errorf("agent leaf cgroup.procs = %q, want own pid", got)
	}
	if err := g.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
