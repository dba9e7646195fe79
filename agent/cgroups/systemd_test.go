//go:build linux

package cgroups

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	cg "github.com/containerd/cgroups/v3"
	sdbus "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"
)

// fakeSystemd stands in for the manager: it records the units asked for and
// answers jobs with "done", or with the error or result set for a name.
type fakeSystemd struct {
	mu      sync.Mutex
	units   map[string][]sdbus.Property // started, by name
	stopped []string
	closed  bool
	fail    map[string]error  // StartTransientUnit returns this error
	result  map[string]string // job result other than "done"
}

var _ systemdConn = (*fakeSystemd)(nil)

func newFake() *fakeSystemd {
	return &fakeSystemd{units: map[string][]sdbus.Property{},
		fail: map[string]error{}, result: map[string]string{}}
}

func (f *fakeSystemd) job(name string, ch chan<- string) {
	res := "done"
	if r, ok := f.result[name]; ok {
		res = r
	}
	ch <- res
}

func (f *fakeSystemd) StartTransientUnitContext(_ context.Context, name, _ string, props []sdbus.Property, ch chan<- string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail[name]; err != nil {
		return 0, err
	}
	if _, ok := f.units[name]; ok {
		return 0, godbus.Error{Name: errUnitExists, Body: []any{"Unit " + name + " already exists."}}
	}
	f.units[name] = props
	f.job(name, ch)
	return 1, nil
}

func (f *fakeSystemd) StopUnitContext(_ context.Context, name, _ string, ch chan<- string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = append(f.stopped, name)
	delete(f.units, name)
	f.job(name, ch)
	return 2, nil
}

func (f *fakeSystemd) Close() { f.mu.Lock(); f.closed = true; f.mu.Unlock() }

func props(ps []sdbus.Property) map[string]any {
	m := map[string]any{}
	for _, p := range ps {
		m[p.Name] = p.Value.Value()
	}
	return m
}

// systemdOpts is a service's environment with the fake manager on the bus.
func systemdOpts(t *testing.T, f *fakeSystemd, dialErr error) Options {
	return Options{
		getenv:     func(k string) string { return map[string]string{EnvInvocationID: "abc"}[k] },
		systemdDir: t.TempDir(),
		dial: func(context.Context) (systemdConn, error) {
			if dialErr != nil {
				return nil, dialErr
			}
			return f, nil
		},
	}
}

func TestSystemdSlicesAndScopes(t *testing.T) {
	f := newFake()
	opts := systemdOpts(t, f, nil)
	opts.ShardCPUs = []int{0, 1, 9}
	// godbus closes a connection when its dial context ends: that context
	// must outlive Install and the agent's own, and end with Close.
	var dialCtx context.Context
	opts.dial = func(ctx context.Context) (systemdConn, error) { dialCtx = ctx; return f, nil }
	agentCtx, stop := context.WithCancel(context.Background())
	g, reason := Install(agentCtx, opts)
	stop()
	if reason != "" {
		t.Fatalf("Install: %s", reason)
	}
	if g.Mode() != ModeSystemd {
		t.Fatalf("mode %q, want systemd", g.Mode())
	}
	shards := props(f.units["ailurus-shards.slice"])
	want := map[string]any{
		"Description":   "Ailurus shards, one pinned process per core",
		"CPUAccounting": true,
		"CPUWeight":     uint64(1000),
		"AllowedCPUs":   []byte{0b11, 0b10}, // CPUs 0, 1 and 9
	}
	if !reflect.DeepEqual(shards, want) {
		t.Errorf("ailurus-shards.slice properties\n got %v\nwant %v", shards, want)
	}
	sidecars := props(f.units["ailurus-sidecars.slice"])
	want = map[string]any{
		"Description":        "Ailurus sidecars (uploader, transformer)",
		"CPUAccounting":      true,
		"MemoryAccounting":   true,
		"CPUQuotaPerSecUSec": uint64(200000), // 20000 µs per 100000 µs: 20% of a CPU
		"CPUQuotaPeriodUSec": uint64(100000),
		"MemoryMax":          uint64(1 << 30),
	}
	if !reflect.DeepEqual(sidecars, want) {
		t.Errorf("ailurus-sidecars.slice properties\n got %v\nwant %v", sidecars, want)
	}

	if err := g.AddShard(4242); err != nil {
		t.Fatal(err)
	}
	if err := g.AddSidecar(4343); err != nil {
		t.Fatal(err)
	}
	scope := props(f.units["ailurus-shard-4242.scope"])
	if scope["Slice"] != "ailurus-shards.slice" || !reflect.DeepEqual(scope["PIDs"], []uint32{4242}) ||
		scope["CollectMode"] != "inactive-or-failed" || scope["Description"] != "Ailurus shard process 4242" {
		t.Errorf("shard scope properties %v", scope)
	}
	scope = props(f.units["ailurus-sidecar-4343.scope"])
	if scope["Slice"] != "ailurus-sidecars.slice" || !reflect.DeepEqual(scope["PIDs"], []uint32{4343}) {
		t.Errorf("sidecar scope properties %v", scope)
	}

	if err := dialCtx.Err(); err != nil {
		t.Fatalf("D-Bus connection's context ended before Close: %v", err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if dialCtx.Err() == nil {
		t.Error("D-Bus connection's context still live after Close")
	}
	if want := []string{"ailurus-sidecars.slice", "ailurus-shards.slice"}; !slices.Equal(f.stopped, want) {
		t.Errorf("stopped %v, want %v", f.stopped, want)
	}
	if !f.closed {
		t.Error("D-Bus connection left open")
	}
	if err := g.Close(); err != nil || len(f.stopped) != 2 {
		t.Errorf("second Close: %v, stopped %v", err, f.stopped)
	}
}

// A slice left by an agent that was killed is stopped, ending what is left
// in it, and created again with the current properties.
func TestSystemdSliceLeftOver(t *testing.T) {
	f := newFake()
	f.units["ailurus-sidecars.slice"] = []sdbus.Property{{Name: "MemoryMax", Value: godbus.MakeVariant(uint64(1))}}
	g, reason := Install(context.Background(), systemdOpts(t, f, nil))
	if reason != "" {
		t.Fatalf("Install: %s", reason)
	}
	defer g.Close()
	if !slices.Equal(f.stopped, []string{"ailurus-sidecars.slice"}) {
		t.Errorf("stopped %v, want the left-over slice", f.stopped)
	}
	got := props(f.units["ailurus-sidecars.slice"])
	if got["MemoryMax"] != uint64(1<<30) || got["CPUQuotaPerSecUSec"] != uint64(200000) {
		t.Errorf("left-over slice recreated with %v", got)
	}
}

func TestSystemdScopeFailure(t *testing.T) {
	f := newFake()
	f.result["ailurus-shard-7.scope"] = "failed"
	g, reason := Install(context.Background(), systemdOpts(t, f, nil))
	if reason != "" {
		t.Fatalf("Install: %s", reason)
	}
	defer g.Close()
	if err := g.AddShard(7); err == nil || !strings.Contains(err.Error(), "job failed") {
		t.Errorf("AddShard with a failed job: %v", err)
	}
}

// TestInstallFallback: D-Bus refusing or absent falls back to cgroupfs, and
// then to no quotas with one reason naming both. The cgroupfs backend is
// pointed at empty directories so that it fails on any host.
func TestInstallFallback(t *testing.T) {
	denied := godbus.Error{Name: "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired",
		Body: []any{"Interactive authentication required."}}
	cases := []struct {
		name    string
		dialErr error // connecting to the bus
		fail    error // StartTransientUnit of the shards' slice
		service bool  // INVOCATION_ID set
		noPID1  bool  // /run/systemd/system absent
		mode    Mode
		dialled bool
		reason  []string // substrings of the reason; none: the systemd backend
	}{
		{name: "service", service: true, dialled: true},
		{name: "no-bus", service: true, dialErr: errors.New("dial unix /run/dbus/system_bus_socket: no such file"), dialled: true,
			reason: []string{"systemd: connect to systemd: dial unix", "; cgroupfs: "}},
		{name: "polkit-denied", service: true, fail: denied, dialled: true,
			reason: []string{"systemd: start ailurus-shards.slice: Interactive authentication required.", "; cgroupfs: "}},
		{name: "not-a-service", reason: []string{""}},
		{name: "systemd-not-pid1", service: true, noPID1: true, reason: []string{""}},
		{name: "forced-systemd", mode: ModeSystemd, fail: denied, dialled: true,
			reason: []string{"systemd: start ailurus-shards.slice"}},
		{name: "forced-none", service: true, mode: ModeNone, reason: []string{"cgroups disabled by options"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake()
			if c.fail != nil {
				f.fail["ailurus-shards.slice"] = c.fail
			}
			opts := systemdOpts(t, f, c.dialErr)
			opts.Mode = c.mode
			opts.V1Root, opts.V2Mountpoint = t.TempDir(), t.TempDir()
			dialled := false
			dial := opts.dial
			opts.dial = func(ctx context.Context) (systemdConn, error) { dialled = true; return dial(ctx) }
			if !c.service {
				opts.getenv = func(string) string { return "" }
			}
			if c.noPID1 {
				opts.systemdDir += "/absent"
			}
			g, reason := Install(context.Background(), opts)
			defer g.Close()
			if dialled != c.dialled {
				t.Errorf("dialled systemd: %v, want %v", dialled, c.dialled)
			}
			if len(c.reason) == 0 {
				if reason != "" || g.Mode() != ModeSystemd {
					t.Fatalf("mode %q reason %q, want systemd", g.Mode(), reason)
				}
				return
			}
			if reason == "" || g.Mode() != ModeNone {
				t.Fatalf("mode %q reason %q, want a no-op Groups and a reason", g.Mode(), reason)
			}
			for _, want := range c.reason {
				if !strings.Contains(reason, want) {
					t.Errorf("reason %q lacks %q", reason, want)
				}
			}
			if !c.dialled && strings.Contains(reason, "systemd: ") {
				t.Errorf("reason %q mentions systemd, which was not asked", reason)
			}
			if c.fail != nil && !f.closed {
				t.Error("D-Bus connection left open after a refusal")
			}
			checkNoop(t, g)
		})
	}
}

func TestCPUMask(t *testing.T) {
	for _, c := range []struct {
		cpus []int
		want []byte
	}{
		{nil, nil},
		{[]int{0}, []byte{1}},
		{[]int{3, 8, 15, 16}, []byte{0b1000, 0b1000_0001, 1}},
		{[]int{-1, 2}, []byte{0b100}},
	} {
		if got := cpuMask(c.cpus); !slices.Equal(got, c.want) {
			t.Errorf("cpuMask(%v) = %08b, want %08b", c.cpus, got, c.want)
		}
	}
}

// TestInstallFallsBackToDelegated: where polkit refuses the slices (systemd
// 252 with the shipped rule), Install writes the roles into the service's
// own, delegated cgroup instead, and reports no reason.
func TestInstallFallsBackToDelegated(t *testing.T) {
	if cg.Mode() == cg.Legacy {
		t.Skip("no cgroup2 mount on this host to stand in for")
	}
	f := newFake()
	f.fail["ailurus-shards.slice"] = godbus.Error{Name: "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired",
		Body: []any{"Interactive authentication required."}}
	opts := systemdOpts(t, f, nil)
	// No v1 cpu controller here: a hybrid host's cgroup2 is then used.
	opts.V1Root, opts.V2Mountpoint, opts.V2Group = t.TempDir(), fakeV2(t, ""), "/ailurus.service"
	g, reason := Install(context.Background(), opts)
	if reason != "" {
		t.Fatalf("Install: %s", reason)
	}
	defer g.Close()
	if g.Mode() != ModeV2 {
		t.Fatalf("mode %q, want v2", g.Mode())
	}
	if !f.closed {
		t.Error("D-Bus connection left open after the refusal")
	}
	if got := readFake(t, opts.V2Mountpoint+"/ailurus.service/shards/cpu.weight"); got != "1000" {
		t.Errorf("shards cpu.weight = %q", got)
	}
}
