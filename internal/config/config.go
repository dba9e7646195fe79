// Package config is the node configuration of `ailurus start`: what one node
// listens on, where it keeps its data, how many shards it runs, and the initial
// values of cluster properties.
//
// Values come from four layers, merged by Load in this order, later wins:
// built-in defaults (DefaultConfig, or DevConfig with --dev), the YAML file
// (/etc/ailurus/ailurus.yaml or --config), AILURUS_* environment variables,
// command-line flags. Every problem found on the way (unknown key, wrong type,
// bad value) is collected and reported at once in a *ValidationError.
//
// The file follows Redpanda's redpanda.yaml: node properties under
// `redpanda:`, initial cluster properties under `cluster:` (Redpanda keeps
// those in a separate .bootstrap.yaml). See README.md for an example.
package config

import (
	"net"
	"path/filepath"
	"strconv"
)

// Well-known paths and ports.
const (
	// DefaultPath is the file `ailurus start` reads when --config is not given.
	DefaultPath = "/etc/ailurus/ailurus.yaml"
	// DefaultDataDirectory holds the partition logs and controller state on a
	// production node.
	DefaultDataDirectory = "/var/lib/ailurus/data"
	// DefaultDevDir is the developer-mode state root, relative to the working
	// directory of `ailurus start --dev`.
	DefaultDevDir = ".ailurus"

	KafkaPort = 9092  // Kafka API
	AdminPort = 9644  // admin API (HTTP)
	RPCPort   = 33145 // internode RPC of shard 0; shard i listens on RPCPort+i
)

// Sidecar limits (SidecarCPUQuotaPercent, SidecarMemoryMaxBytes).
const (
	DefaultSidecarCPUQuotaPercent = 20      // percent of one CPU
	DefaultSidecarMemoryMaxBytes  = 1 << 30 // 1 GiB
	// MinSidecarMemoryMaxBytes is the least sidecar_memory_max_bytes
	// accepted: a Go runtime holding a segment to upload, or a wasm
	// transform's VM, is OOM-killed in less, over and over.
	MinSidecarMemoryMaxBytes = 64 << 20
)

// Config is the effective configuration of one node. It is built once at
// startup (Load, or DefaultConfig/DevConfig in tests), validated, and then
// read-only: the agent owns it and hands copies of what each child needs.
//
// Field comments give the YAML key under `redpanda:` and, where one exists,
// the environment variable and flag that override it.
type Config struct {
	// NodeID identifies this node in the cluster; it is the Kafka broker id.
	// 0 to 2^31-1, unique per cluster. Key node_id, AILURUS_NODE_ID, --node-id.
	NodeID int `json:"node_id"`

	// DataDirectory holds the partition logs (<data>/kafka/<topic>/...) and the
	// controller's state. It should be absolute; a relative path is resolved
	// against the agent's working directory (allowed, warned about outside
	// developer mode). Key data_directory, AILURUS_DATA_DIRECTORY,
	// --data-directory.
	DataDirectory string `json:"data_directory"`

	// KafkaAPI are the addresses the Kafka API binds; every shard binds each of
	// them with SO_REUSEPORT. At least one. Key kafka_api, AILURUS_KAFKA_ADDR,
	// --kafka-addr.
	KafkaAPI []Listener `json:"kafka_api"`

	// AdvertisedKafkaAPI are the addresses clients are told to connect to, each
	// matched by Name to a KafkaAPI listener. Empty: see AdvertisedKafka. Key
	// advertised_kafka_api, AILURUS_ADVERTISED_KAFKA_ADDR, --advertise-kafka-addr.
	AdvertisedKafkaAPI []Listener `json:"advertised_kafka_api"`

	// Admin are the addresses of the admin HTTP API (readiness, cluster config,
	// /metrics). At least one. Key admin, AILURUS_ADMIN_ADDR, --admin-addr.
	Admin []Listener `json:"admin"`

	// RPCServer is the internode RPC (Raft) address of shard 0; shard i uses
	// port Port+i. Key rpc_server, AILURUS_RPC_ADDR, --rpc-addr.
	RPCServer Address `json:"rpc_server"`

	// AdvertisedRPCAPI is the RPC address other nodes dial. Zero value: see
	// AdvertisedRPC. Key advertised_rpc_api, AILURUS_ADVERTISED_RPC_ADDR,
	// --advertise-rpc-addr.
	AdvertisedRPCAPI Address `json:"advertised_rpc_api"`

	// SeedServers are the RPC addresses of the nodes this node contacts to join
	// the cluster. Empty: this node forms a cluster of its own. Key
	// seed_servers, AILURUS_SEEDS, --seeds.
	SeedServers []SeedServer `json:"seed_servers"`

	// SMP is the number of shards (one process per CPU). 0 means one per CPU
	// this process may run on (EffectiveSMP). Key smp, AILURUS_SMP, --smp.
	SMP int `json:"smp"`

	// DeveloperMode relaxes the startup checks meant for production hosts
	// (tuner checks, filesystem type, free memory). It does NOT relax
	// durability: a node in developer mode still fsyncs before acknowledging,
	// and there is deliberately no setting to change that. Key developer_mode,
	// AILURUS_DEVELOPER_MODE.
	DeveloperMode bool `json:"developer_mode"`

	// SidecarCPUQuotaPercent is the CPU time the sidecars (uploader,
	// transformer) may use together, in percent of one CPU: 20 is 20 ms per
	// 100 ms period, 150 one and a half CPUs. The kernel throttles them
	// beyond it (systemd CPUQuota=, cgroup cpu.max or cpu.cfs_quota_us), so
	// they never take a shard's core. At least 1. Applied when the agent gets
	// cgroup quotas (agent/cgroups); ignored when it runs without. Key
	// sidecar_cpu_quota_percent, AILURUS_SIDECAR_CPU_QUOTA_PERCENT.
	SidecarCPUQuotaPercent int `json:"sidecar_cpu_quota_percent"`

	// SidecarMemoryMaxBytes is the sidecars' hard memory limit, together, in
	// bytes (systemd MemoryMax=, cgroup memory.max or memory.limit_in_bytes):
	// past it the kernel reclaims and then OOM-kills inside the sidecars'
	// group, never a shard. At least MinSidecarMemoryMaxBytes. Key
	// sidecar_memory_max_bytes, AILURUS_SIDECAR_MEMORY_MAX_BYTES.
	SidecarMemoryMaxBytes int64 `json:"sidecar_memory_max_bytes"`

	// Cluster holds initial values of cluster properties (table in
	// cluster_props.go), keyed by property name. They seed the controller when
	// the cluster is first formed; afterwards cluster properties live in the
	// controller and change through the admin API. Only explicitly set values
	// are here; ClusterValue falls back to the table's default. Section
	// `cluster:` of the file.
	Cluster map[string]any `json:"cluster"`

	// file is the path of the YAML file that was read, "" if none.
	file string
	// origins maps a key path ("redpanda.kafka_api[0].port") to where its
	// value came from ("/etc/ailurus/ailurus.yaml:7", "env AILURUS_SMP"), so
	// problems can point at the line or variable to fix. See origin.go.
	origins map[string]string
}

// Listener is one address a server binds or advertises.
type Listener struct {
	// Name ties an advertised listener to the bound one; optional with a single
	// listener, unique when there are several.
	Name string `json:"name,omitempty"`
	// Address is an IP address or host name; 0.0.0.0 or :: binds every
	// interface (never valid as an advertised address).
	Address string `json:"address"`
	// Port is the TCP port. 0 binds any free port (tests); advertised ports
	// must be 1-65535.
	Port int `json:"port"`
}

// HostPort returns the listener as "host:port" ("[::1]:9092" for IPv6).
func (l Listener) HostPort() string { return joinHostPort(l.Address, l.Port) }

// Address is a host and port, as used by rpc_server and seed_servers.
type Address struct {
	Address string `json:"address"` // IP address or host name
	Port    int    `json:"port"`    // TCP port; 0 = any free port where binding
}

// HostPort returns the address as "host:port".
func (a Address) HostPort() string { return joinHostPort(a.Address, a.Port) }

// IsZero reports whether the address is unset.
func (a Address) IsZero() bool { return a == Address{} }

// SeedServer is one entry of seed_servers; the extra `host:` level matches
// Redpanda's redpanda.yaml.
type SeedServer struct {
	Host Address `json:"host"`
}

func joinHostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// DefaultConfig returns the production defaults: data in
// /var/lib/ailurus/data, Kafka on 0.0.0.0:9092, admin on 0.0.0.0:9644, RPC on
// 0.0.0.0:33145, node id 0, one shard per usable CPU, no seeds (a new cluster
// of one), sidecars limited to 20% of a CPU and 1 GiB, no cluster property set
// explicitly.
func DefaultConfig() Config {
	return Config{
		NodeID:                 0,
		DataDirectory:          DefaultDataDirectory,
		KafkaAPI:               []Listener{{Address: "0.0.0.0", Port: KafkaPort}},
		Admin:                  []Listener{{Address: "0.0.0.0", Port: AdminPort}},
		RPCServer:              Address{Address: "0.0.0.0", Port: RPCPort},
		SidecarCPUQuotaPercent: DefaultSidecarCPUQuotaPercent,
		SidecarMemoryMaxBytes:  DefaultSidecarMemoryMaxBytes,
		Cluster:                map[string]any{},
	}
}

// DevConfig returns the developer-mode defaults used by `ailurus start --dev`:
// everything on 127.0.0.1 (Kafka 9092, admin 9644, RPC 33145), data in
// <dir>/data, developer_mode on and auto_create_topics_enabled true. dir is
// usually DefaultDevDir, relative to the working directory, so no root is
// needed. Durability is unchanged: records are fsynced before they are
// acknowledged.
func DevConfig(dir string) Config {
	c := DefaultConfig()
	c.DataDirectory = filepath.Join(dir, "data")
	c.KafkaAPI = []Listener{{Address: "127.0.0.1", Port: KafkaPort}}
	c.Admin = []Listener{{Address: "127.0.0.1", Port: AdminPort}}
	c.RPCServer = Address{Address: "127.0.0.1", Port: RPCPort}
	c.DeveloperMode = true
	c.Cluster["auto_create_topics_enabled"] = true
	return c
}

// File returns the path of the YAML file Load read, or "" when none was read
// (no file at the default path, or --dev without --config).
func (c *Config) File() string { return c.file }

// Shards returns the number of shard processes to run: SMP if set, else
// EffectiveSMP().
func (c *Config) Shards() int {
	if c.SMP > 0 {
		return c.SMP
	}
	return EffectiveSMP()
}

// ClusterValue returns the initial value of a cluster property: the one set in
// Cluster, else the table default (nil for a null default). ok is false for a
// name not in the table. Values Load returns are normalized (bool, int64,
// string or nil).
func (c *Config) ClusterValue(name string) (v any, ok bool) {
	p, ok := LookupClusterProperty(name)
	if !ok {
		return nil, false
	}
	if v, set := c.Cluster[name]; set {
		return v, true
	}
	return p.Default, true
}

// AdvertisedKafka returns the Kafka addresses this node gives clients, one per
// KafkaAPI listener: the AdvertisedKafkaAPI entry with the same name if there
// is one, else the listener itself with an unspecified bind address (0.0.0.0,
// ::) replaced by hostname. A listener bound to port 0 is returned with port 0;
// the caller substitutes the port it actually got.
func (c *Config) AdvertisedKafka(hostname string) []Listener {
	out := make([]Listener, 0, len(c.KafkaAPI))
	for _, l := range c.KafkaAPI {
		if a, ok := findListener(c.AdvertisedKafkaAPI, l.Name); ok {
			out = append(out, a)
			continue
		}
		if isUnspecified(l.Address) {
			l.Address = hostname
		}
		out = append(out, l)
	}
	return out
}

// AdvertisedRPC returns the RPC address other nodes dial: AdvertisedRPCAPI if
// set, else RPCServer with an unspecified address replaced by hostname.
func (c *Config) AdvertisedRPC(hostname string) Address {
	if !c.AdvertisedRPCAPI.IsZero() {
		return c.AdvertisedRPCAPI
	}
	a := c.RPCServer
	if isUnspecified(a.Address) {
		a.Address = hostname
	}
	return a
}

func findListener(ls []Listener, name string) (Listener, bool) {
	for _, l := range ls {
		if l.Name == name {
			return l, true
		}
	}
	return Listener{}, false
}
