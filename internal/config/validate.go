package config

import (
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
)

// Validate checks every value and returns a *ValidationError listing all the
// problems, or nil. It rejects only what cannot work (a port out of range, an
// empty data directory, two servers on one port, an unknown or mistyped
// cluster property); what merely looks unwise is left to Warnings. It looks at
// values only: it resolves no name, binds no port and does not touch the data
// directory.
func (c *Config) Validate() error {
	v := validator{c: c}
	v.node()
	v.sidecars()
	v.kafka()
	v.admin()
	v.rpc()
	v.seeds()
	v.portClashes()
	v.cluster()
	return v.ps.err()
}

// Warnings returns what is legal but probably not intended, for the agent to
// log at startup and `ailurus start -t` to print. They never stop a node.
func (c *Config) Warnings() []Problem {
	var ps problems
	if cpus := EffectiveSMP(); c.SMP > cpus {
		ps.add(c.origin("redpanda.smp"), "redpanda.smp",
			"%d shards but this process may use only %d CPUs: shards will share CPUs and latency will suffer", c.SMP, cpus)
	}
	if cpus := EffectiveSMP(); c.SidecarCPUQuotaPercent > 100*cpus {
		ps.add(c.origin("redpanda.sidecar_cpu_quota_percent"), "redpanda.sidecar_cpu_quota_percent",
			"a sidecar CPU quota of %d%% is more than the %d CPUs this process may use: it limits nothing, and the sidecars may take the shards' cores", c.SidecarCPUQuotaPercent, cpus)
	}
	if !c.DeveloperMode && c.DataDirectory != "" && !filepath.IsAbs(c.DataDirectory) {
		ps.add(c.origin("redpanda.data_directory"), "redpanda.data_directory",
			"%q is relative: it depends on the working directory the node is started from", c.DataDirectory)
	}
	return ps
}

type validator struct {
	c  *Config
	ps problems
}

// add records a problem at path, with the origin of the value there.
func (v *validator) add(path, format string, args ...any) {
	v.ps.add(v.c.origin(path), path, format, args...)
}

func (v *validator) node() {
	c := v.c
	if c.NodeID < 0 || c.NodeID > math.MaxInt32 {
		v.add("redpanda.node_id", "node id %d is out of range 0-%d", c.NodeID, math.MaxInt32)
	}
	if c.DataDirectory == "" {
		v.add("redpanda.data_directory", "data directory is empty")
	}
	if c.SMP < 0 {
		v.add("redpanda.smp", "smp %d is negative (0 means one shard per usable CPU)", c.SMP)
	}
}

// sidecars checks the sidecars' limits. There is no "unlimited": a quota
// above the host's CPUs limits nothing, and Warnings says so.
func (v *validator) sidecars() {
	c := v.c
	if c.SidecarCPUQuotaPercent < 1 {
		v.add("redpanda.sidecar_cpu_quota_percent",
			"sidecar CPU quota %d%% is below 1%% of a CPU (1 ms per 100 ms period, the least quota the kernel takes)", c.SidecarCPUQuotaPercent)
	} else if c.SidecarCPUQuotaPercent > maxSidecarCPUQuotaPercent {
		v.add("redpanda.sidecar_cpu_quota_percent",
			"sidecar CPU quota %d%% is more than %d CPUs", c.SidecarCPUQuotaPercent, maxSidecarCPUQuotaPercent/100)
	}
	if c.SidecarMemoryMaxBytes < MinSidecarMemoryMaxBytes {
		v.add("redpanda.sidecar_memory_max_bytes",
			"sidecar memory limit %d bytes is below the minimum %d (64 MiB)", c.SidecarMemoryMaxBytes, MinSidecarMemoryMaxBytes)
	}
}

// maxSidecarCPUQuotaPercent bounds sidecar_cpu_quota_percent (8192 CPUs,
// Linux's NR_CPUS limit), so that no quota overflows on its way to the kernel.
const maxSidecarCPUQuotaPercent = 8192 * 100

func (v *validator) kafka() {
	c := v.c
	if len(c.KafkaAPI) == 0 {
		v.add("redpanda.kafka_api", "no Kafka listener: at least one is needed")
	}
	names := map[string]int{}
	for i, l := range c.KafkaAPI {
		path := fmt.Sprintf("redpanda.kafka_api[%d]", i)
		v.endpoint(path, l.Address, l.Port, true)
		if j, dup := names[l.Name]; dup {
			v.add(path+".name", "name %q is also used by kafka_api[%d]; listeners need distinct names", l.Name, j)
		}
		names[l.Name] = i
	}
	seen := map[string]int{}
	for i, l := range c.AdvertisedKafkaAPI {
		path := fmt.Sprintf("redpanda.advertised_kafka_api[%d]", i)
		v.endpoint(path, l.Address, l.Port, false)
		if _, ok := names[l.Name]; !ok {
			v.add(path+".name", "no kafka_api listener is named %q", l.Name)
		}
		if j, dup := seen[l.Name]; dup {
			v.add(path+".name", "listener %q is also advertised by advertised_kafka_api[%d]", l.Name, j)
		}
		seen[l.Name] = i
	}
}

func (v *validator) admin() {
	if len(v.c.Admin) == 0 {
		v.add("redpanda.admin", "no admin listener: at least one is needed")
	}
	for i, l := range v.c.Admin {
		v.endpoint(fmt.Sprintf("redpanda.admin[%d]", i), l.Address, l.Port, true)
	}
}

func (v *validator) rpc() {
	c := v.c
	v.endpoint("redpanda.rpc_server", c.RPCServer.Address, c.RPCServer.Port, true)
	if p, n := c.RPCServer.Port, c.Shards(); p > 0 && p <= 65535 && p+n-1 > 65535 {
		v.add("redpanda.rpc_server.port", "%d shards need ports %d-%d, past 65535", n, p, p+n-1)
	}
	if !c.AdvertisedRPCAPI.IsZero() {
		v.endpoint("redpanda.advertised_rpc_api", c.AdvertisedRPCAPI.Address, c.AdvertisedRPCAPI.Port, false)
	}
}

func (v *validator) seeds() {
	seen := map[Address]int{}
	for i, s := range v.c.SeedServers {
		path := fmt.Sprintf("redpanda.seed_servers[%d].host", i)
		v.endpoint(path, s.Host.Address, s.Host.Port, false)
		if j, dup := seen[s.Host]; dup {
			v.add(path, "%s is listed twice (also seed_servers[%d])", s.Host.HostPort(), j)
		}
		seen[s.Host] = i
	}
}

// endpoint checks an address and port at path. bind: this node listens on it
// (port 0 allowed); otherwise others dial it (0.0.0.0 and port 0 are not).
func (v *validator) endpoint(path, host string, port int, bind bool) {
	if msg := hostProblem(host); msg != "" {
		v.add(path+".address", "%s", msg)
	} else if !bind && isUnspecified(host) {
		v.add(path+".address", "%s means every interface: others cannot connect to it; give a routable address", host)
	}
	if msg := portProblem(port, bind); msg != "" {
		v.add(path+".port", "%s", msg)
	}
}

// bound is a port range one server of this node listens on.
type bound struct {
	path       string
	host       string
	first, end int // ports [first, end]
}

// portClashes reports two servers of this node that would bind the same port
// on overlapping addresses (equal, or one of them every interface).
func (v *validator) portClashes() {
	c := v.c
	var bs []bound
	for i, l := range c.KafkaAPI {
		bs = append(bs, bound{fmt.Sprintf("redpanda.kafka_api[%d]", i), l.Address, l.Port, l.Port})
	}
	for i, l := range c.Admin {
		bs = append(bs, bound{fmt.Sprintf("redpanda.admin[%d]", i), l.Address, l.Port, l.Port})
	}
	p := c.RPCServer.Port
	bs = append(bs, bound{"redpanda.rpc_server", c.RPCServer.Address, p, p + c.Shards() - 1})
	for i, a := range bs {
		for _, b := range bs[i+1:] {
			if a.first == 0 || b.first == 0 || a.first > b.end || b.first > a.end {
				continue
			}
			if a.host == b.host || isUnspecified(a.host) || isUnspecified(b.host) {
				v.add(b.path+".port", "port %d clashes with %s (%s:%d-%d)", b.first, a.path, a.host, a.first, a.end)
			}
		}
	}
}

func (v *validator) cluster() {
	c := v.c
	for _, name := range slices.Sorted(maps.Keys(c.Cluster)) {
		if _, err := ParseClusterProperty(name, c.Cluster[name]); err != nil {
			v.add("cluster."+name, "%v", err)
		}
	}
	v.notAbove("kafka_batch_max_bytes", "kafka_request_max_bytes")
	v.notAbove("group_min_session_timeout_ms", "group_max_session_timeout_ms")
}

// notAbove reports when cluster property lo is greater than hi, both taken as
// set or defaulted. Values that do not parse were reported already.
func (v *validator) notAbove(lo, hi string) {
	l, lok := v.clusterInt(lo)
	h, hok := v.clusterInt(hi)
	if !lok || !hok || l <= h {
		return
	}
	path := "cluster." + lo
	if _, set := v.c.Cluster[lo]; !set {
		path = "cluster." + hi
	}
	v.add(path, "%s (%d) is greater than %s (%d)", lo, l, hi, h)
}

func (v *validator) clusterInt(name string) (int64, bool) {
	raw, ok := v.c.ClusterValue(name)
	if !ok {
		return 0, false
	}
	n, err := ParseClusterProperty(name, raw)
	if err != nil || n == nil {
		return 0, false
	}
	return n.(int64), true
}
