package config

import (
	"fmt"
	"strconv"
	"strings"
)

// setting is a node property that environment variables and flags can set.
// Both layers parse the same text the same way; range and address checks are
// left to Validate so a bad value reads the same whichever layer set it.
type setting struct {
	env   string // AILURUS_... variable
	flag  string // flag name, without "--"
	path  string // key path in the file, for problems and origins
	typ   string // value type shown in --help
	usage string
	list  bool // a repeated flag appends ("--seeds a --seeds b")
	set   func(c *Config, v string) error
}

var settings = []setting{
	{
		env: "AILURUS_NODE_ID", flag: "node-id", path: "redpanda.node_id", typ: "int",
		usage: "node id, unique in the cluster, 0-2147483647",
		set: func(c *Config, v string) error {
			return parseInt(v, &c.NodeID)
		},
	},
	{
		env: "AILURUS_DATA_DIRECTORY", flag: "data-directory", path: "redpanda.data_directory", typ: "path",
		usage: "directory for partition logs and controller state",
		set: func(c *Config, v string) error {
			c.DataDirectory = v
			return nil
		},
	},
	{
		env: "AILURUS_SMP", flag: "smp", path: "redpanda.smp", typ: "int",
		usage: "number of shards, one per CPU; 0 = every CPU this process may use",
		set: func(c *Config, v string) error {
			return parseInt(v, &c.SMP)
		},
	},
	{
		env: "AILURUS_DEVELOPER_MODE", path: "redpanda.developer_mode",
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid value %q: want true or false", v)
			}
			c.DeveloperMode = b
			return nil
		},
	},
	{
		env: "AILURUS_SIDECAR_CPU_QUOTA_PERCENT", path: "redpanda.sidecar_cpu_quota_percent",
		set: func(c *Config, v string) error {
			return parseInt(v, &c.SidecarCPUQuotaPercent)
		},
	},
	{
		env: "AILURUS_SIDECAR_MEMORY_MAX_BYTES", path: "redpanda.sidecar_memory_max_bytes",
		set: func(c *Config, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return fmt.Errorf("invalid value %q: want an integer (bytes)", v)
			}
			c.SidecarMemoryMaxBytes = n
			return nil
		},
	},
	{
		env: "AILURUS_KAFKA_ADDR", flag: "kafka-addr", path: "redpanda.kafka_api", typ: "[name://]host:port,...", list: true,
		usage: "Kafka API listeners to bind",
		set: func(c *Config, v string) error {
			return setListeners(&c.KafkaAPI, v, KafkaPort)
		},
	},
	{
		env: "AILURUS_ADVERTISED_KAFKA_ADDR", flag: "advertise-kafka-addr", path: "redpanda.advertised_kafka_api", typ: "[name://]host:port,...", list: true,
		usage: "Kafka addresses given to clients, matched to --kafka-addr by name",
		set: func(c *Config, v string) error {
			return setListeners(&c.AdvertisedKafkaAPI, v, KafkaPort)
		},
	},
	{
		env: "AILURUS_ADMIN_ADDR", flag: "admin-addr", path: "redpanda.admin", typ: "host:port,...", list: true,
		usage: "admin API (HTTP) listeners to bind",
		set: func(c *Config, v string) error {
			return setListeners(&c.Admin, v, AdminPort)
		},
	},
	{
		env: "AILURUS_RPC_ADDR", flag: "rpc-addr", path: "redpanda.rpc_server", typ: "host:port",
		usage: "internode RPC address of shard 0 (shard i uses port+i)",
		set: func(c *Config, v string) error {
			return setAddress(&c.RPCServer, v)
		},
	},
	{
		env: "AILURUS_ADVERTISED_RPC_ADDR", flag: "advertise-rpc-addr", path: "redpanda.advertised_rpc_api", typ: "host:port",
		usage: "RPC address other nodes dial",
		set: func(c *Config, v string) error {
			return setAddress(&c.AdvertisedRPCAPI, v)
		},
	},
	{
		env: "AILURUS_SEEDS", flag: "seeds", path: "redpanda.seed_servers", typ: "host[:port],...", list: true,
		usage: "RPC addresses of nodes to join; none = form a new cluster",
		set: func(c *Config, v string) error {
			s, err := parseSeeds(v)
			if err == nil {
				c.SeedServers = s
			}
			return err
		},
	},
}

func parseInt(v string, dst *int) error {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return fmt.Errorf("invalid value %q: want an integer", v)
	}
	*dst = n
	return nil
}

func setListeners(dst *[]Listener, v string, defPort int) error {
	ls, err := parseListeners(v, defPort)
	if err != nil {
		return fmt.Errorf("invalid value: %w", err)
	}
	*dst = ls
	return nil
}

func setAddress(dst *Address, v string) error {
	a, err := parseHostPort(v, RPCPort)
	if err != nil {
		return fmt.Errorf("invalid value: %w", err)
	}
	*dst = a
	return nil
}

// applyEnv is the environment layer: each AILURUS_* variable that is set and
// not empty overrides its property.
func applyEnv(c *Config, getenv func(string) string, ps *problems) {
	for _, s := range settings {
		v := getenv(s.env)
		if v == "" {
			continue
		}
		src := "env " + s.env
		if err := s.set(c, v); err != nil {
			ps.add(src, s.path, "%v", err)
			continue
		}
		c.setOrigin(s.path, src)
	}
}
