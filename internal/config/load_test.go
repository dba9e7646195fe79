package config

import (
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// layers is one Load call: a file (skipped when empty), an environment and
// command-line arguments.
type layers struct {
	file string
	env  map[string]string
	args []string
	opts LoadOptions // Path, Getenv and Flags are filled in by load
}

func (l layers) load(t *testing.T) (*Config, error) {
	t.Helper()
	fset := pflag.NewFlagSet("start", pflag.ContinueOnError)
	RegisterFlags(fset)
	if err := fset.Parse(l.args); err != nil {
		t.Fatalf("parse %v: %v", l.args, err)
	}
	opts := l.opts
	if l.file != "" {
		opts.Path = writeFile(t, l.file)
	}
	opts.Getenv = func(k string) string { return l.env[k] }
	opts.Flags = fset
	return Load(opts)
}

// noDefaultFile stands in for a host without /etc/ailurus/ailurus.yaml.
func noDefaultFile(name string) ([]byte, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// Each layer overrides the one before it, property by property: defaults <
// file < environment < flags.
func TestLoadPrecedence(t *testing.T) {
	file := `redpanda:
  node_id: 1
  data_directory: /file
  smp: 1
  developer_mode: false
  kafka_api: [{address: 10.0.0.1, port: 1001}]
  advertised_kafka_api: [{address: file.example.com, port: 1001}]
  admin: [{address: 10.0.0.1, port: 2001}]
  rpc_server: {address: 10.0.0.1, port: 3001}
  advertised_rpc_api: {address: file.example.com, port: 3001}
  seed_servers: [{host: {address: seed-file, port: 4001}}]
`
	env := map[string]string{
		"AILURUS_NODE_ID":               "2",
		"AILURUS_DATA_DIRECTORY":        "/env",
		"AILURUS_SMP":                   "2",
		"AILURUS_DEVELOPER_MODE":        "true",
		"AILURUS_KAFKA_ADDR":            "10.0.0.2:1002",
		"AILURUS_ADVERTISED_KAFKA_ADDR": "env.example.com:1002",
		"AILURUS_ADMIN_ADDR":            "10.0.0.2:2002",
		"AILURUS_RPC_ADDR":              "10.0.0.2:3002",
		"AILURUS_ADVERTISED_RPC_ADDR":   "env.example.com:3002",
		"AILURUS_SEEDS":                 "seed-env:4002",
	}
	args := []string{
		"--node-id=3", "--data-directory=/flag", "--smp=3",
		"--kafka-addr=10.0.0.3:1003", "--advertise-kafka-addr=flag.example.com:1003",
		"--admin-addr=10.0.0.3:2003", "--rpc-addr=10.0.0.3:3003",
		"--advertise-rpc-addr=flag.example.com:3003", "--seeds=seed-flag:4003",
	}
	// view shows every property the layers set, by key.
	view := func(c *Config) map[string]string {
		return map[string]string{
			"node_id":              strconv.Itoa(c.NodeID),
			"data_directory":       c.DataDirectory,
			"smp":                  strconv.Itoa(c.SMP),
			"developer_mode":       strconv.FormatBool(c.DeveloperMode),
			"kafka_api":            c.KafkaAPI[0].HostPort(),
			"advertised_kafka_api": c.AdvertisedKafkaAPI[0].HostPort(),
			"admin":                c.Admin[0].HostPort(),
			"rpc_server":           c.RPCServer.HostPort(),
			"advertised_rpc_api":   c.AdvertisedRPCAPI.HostPort(),
			"seed_servers":         c.SeedServers[0].Host.HostPort(),
		}
	}
	cases := []struct {
		name string
		l    layers
		want map[string]string
	}{
		{"file", layers{file: file}, map[string]string{
			"node_id": "1", "data_directory": "/file", "smp": "1", "developer_mode": "false",
			"kafka_api": "10.0.0.1:1001", "advertised_kafka_api": "file.example.com:1001",
			"admin": "10.0.0.1:2001", "rpc_server": "10.0.0.1:3001",
			"advertised_rpc_api": "file.example.com:3001", "seed_servers": "seed-file:4001",
		}},
		{"file+env", layers{file: file, env: env}, map[string]string{
			"node_id": "2", "data_directory": "/env", "smp": "2", "developer_mode": "true",
			"kafka_api": "10.0.0.2:1002", "advertised_kafka_api": "env.example.com:1002",
			"admin": "10.0.0.2:2002", "rpc_server": "10.0.0.2:3002",
			"advertised_rpc_api": "env.example.com:3002", "seed_servers": "seed-env:4002",
		}},
		{"file+env+flags", layers{file: file, env: env, args: args}, map[string]string{
			"node_id": "3", "data_directory": "/flag", "smp": "3", "developer_mode": "true",
			"kafka_api": "10.0.0.3:1003", "advertised_kafka_api": "flag.example.com:1003",
			"admin": "10.0.0.3:2003", "rpc_server": "10.0.0.3:3003",
			"advertised_rpc_api": "flag.example.com:3003", "seed_servers": "seed-flag:4003",
		}},
	}
	for _, tc := range cases {
		c, err := tc.l.load(t)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := view(c)
		for k, w := range tc.want {
			if got[k] != w {
				t.Errorf("%s: %s = %q, want %q", tc.name, k, got[k], w)
			}
		}
	}

	// A layer that says nothing about a property leaves it alone.
	c, err := layers{file: file, args: []string{"--smp=3"}}.load(t)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMP != 3 || c.NodeID != 1 || c.DataDirectory != "/file" {
		t.Errorf("file+one flag: smp=%d node_id=%d data_directory=%q", c.SMP, c.NodeID, c.DataDirectory)
	}
}

func TestLoadDefaultFileMissingMeansDefaults(t *testing.T) {
	var asked string
	c, err := Load(LoadOptions{ReadFile: func(name string) ([]byte, error) {
		asked = name
		return noDefaultFile(name)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if asked != DefaultPath {
		t.Errorf("read %q, want %q", asked, DefaultPath)
	}
	if c.File() != "" || c.DataDirectory != DefaultDataDirectory {
		t.Errorf("File()=%q data_directory=%q", c.File(), c.DataDirectory)
	}
}

func TestLoadExplicitFileMissingIsAProblem(t *testing.T) {
	_, err := Load(LoadOptions{Path: "/nonexistent/ailurus.yaml"})
	wantProblem(t, err, "/nonexistent/ailurus.yaml", "", "cannot read")
	// --config counts as explicit too.
	_, err = layers{args: []string{"--config=/nonexistent/x.yaml"}}.load(t)
	wantProblem(t, err, "/nonexistent/x.yaml", "", "cannot read")
}

func TestLoadConfigFlag(t *testing.T) {
	path := writeFile(t, "redpanda:\n  smp: 5\n")
	c, err := layers{args: []string{"--config", path}}.load(t)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMP != 5 || c.File() != path {
		t.Errorf("smp=%d File()=%q", c.SMP, c.File())
	}
}

func TestLoadDev(t *testing.T) {
	readDefault := func(name string) ([]byte, error) {
		t.Errorf("--dev read %s; it must not read the system file", name)
		return noDefaultFile(name)
	}
	for _, l := range []layers{
		{args: []string{"--dev"}, opts: LoadOptions{ReadFile: readDefault}},
		{opts: LoadOptions{Dev: true, ReadFile: readDefault}},
	} {
		c, err := l.load(t)
		if err != nil {
			t.Fatal(err)
		}
		if !c.DeveloperMode || c.DataDirectory != ".ailurus/data" || c.KafkaAPI[0].HostPort() != "127.0.0.1:9092" {
			t.Errorf("dev: developer_mode=%v data=%q kafka=%v", c.DeveloperMode, c.DataDirectory, c.KafkaAPI)
		}
		if v, _ := c.ClusterValue("auto_create_topics_enabled"); v != true {
			t.Errorf("dev: auto_create_topics_enabled = %v", v)
		}
	}
	// An explicit file is still read on top of the dev defaults, and the
	// dev defaults it does not mention stay.
	c, err := layers{file: "redpanda:\n  smp: 1\n", args: []string{"--dev"}, opts: LoadOptions{DevDir: "/tmp/dev"}}.load(t)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMP != 1 || c.DataDirectory != "/tmp/dev/data" || c.Admin[0].HostPort() != "127.0.0.1:9644" {
		t.Errorf("dev+file: smp=%d data=%q admin=%v", c.SMP, c.DataDirectory, c.Admin)
	}
}

func TestLoadBadEnvAndFlagsAllReported(t *testing.T) {
	_, err := layers{
		file: "redpanda:\n  smp: -1\n",
		env: map[string]string{
			"AILURUS_NODE_ID":        "seven",
			"AILURUS_DEVELOPER_MODE": "perhaps",
			"AILURUS_KAFKA_ADDR":     "::1:9092",
			"AILURUS_SEEDS":          "a:1,b:x",
			"AILURUS_ADMIN_ADDR":     "127.0.0.1:99999",
		},
		args: []string{"--rpc-addr=10.0.0.1:port"},
	}.load(t)
	wantProblem(t, err, "env AILURUS_NODE_ID", "redpanda.node_id", `"seven"`, "integer")
	wantProblem(t, err, "env AILURUS_DEVELOPER_MODE", "redpanda.developer_mode", "true or false")
	wantProblem(t, err, "env AILURUS_KAFKA_ADDR", "redpanda.kafka_api", "host:port")
	wantProblem(t, err, "env AILURUS_SEEDS", "redpanda.seed_servers", `"x"`)
	wantProblem(t, err, "flag --rpc-addr", "redpanda.rpc_server", "not a number")
	// Range problems found by Validate name the layer that set the value.
	wantProblem(t, err, "env AILURUS_ADMIN_ADDR", "redpanda.admin[0].port", "99999")
	var smpFrom string
	for _, p := range problemsOf(t, err) {
		if p.Path == "redpanda.smp" {
			smpFrom = p.Source
		}
	}
	if smpFrom == "" || smpFrom[len(smpFrom)-2:] != ":2" {
		t.Errorf("smp problem source = %q, want the file's line 2", smpFrom)
	}
	if n := len(problemsOf(t, err)); n != 7 {
		t.Errorf("%d problems, want 7:\n%v", n, err)
	}
}

// A later layer that replaces a value also takes over the blame for it.
func TestLoadOriginFollowsOverride(t *testing.T) {
	_, err := layers{
		file: "redpanda:\n  kafka_api:\n    - address: 0.0.0.0\n      port: 70000\n",
		env:  map[string]string{"AILURUS_KAFKA_ADDR": "0.0.0.0:80000"},
	}.load(t)
	wantProblem(t, err, "env AILURUS_KAFKA_ADDR", "redpanda.kafka_api[0].port", "80000")
}

func TestLoadListFlags(t *testing.T) {
	c, err := layers{args: []string{
		"--seeds", "a", "--seeds", "b:1234,[fd00::1]:5",
		"--kafka-addr", "internal://0.0.0.0:9092,external://0.0.0.0:9093",
		"--advertise-kafka-addr", "external://kafka.example.com:443",
	}, opts: LoadOptions{ReadFile: noDefaultFile}}.load(t)
	if err != nil {
		t.Fatal(err)
	}
	seeds := []SeedServer{{Address{"a", 33145}}, {Address{"b", 1234}}, {Address{"fd00::1", 5}}}
	if !slices.Equal(c.SeedServers, seeds) {
		t.Errorf("seeds = %v, want %v", c.SeedServers, seeds)
	}
	kafka := []Listener{{"internal", "0.0.0.0", 9092}, {"external", "0.0.0.0", 9093}}
	if !slices.Equal(c.KafkaAPI, kafka) {
		t.Errorf("kafka_api = %v, want %v", c.KafkaAPI, kafka)
	}
	adv := c.AdvertisedKafka("host1")
	if adv[0].Address != "host1" || adv[1].HostPort() != "kafka.example.com:443" {
		t.Errorf("AdvertisedKafka = %v", adv)
	}
}

func TestLoadNormalizesClusterValues(t *testing.T) {
	c, _, err := loadYAML(t, `cluster:
  write_caching_default: true
  log_cleanup_policy: delete, compact
  default_topic_partitions: "6"
  retention_bytes: null
`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"write_caching_default":    "true",
		"log_cleanup_policy":       "compact,delete",
		"default_topic_partitions": int64(6),
		"retention_bytes":          nil,
	}
	for k, w := range want {
		if got, _ := c.ClusterValue(k); got != w {
			t.Errorf("%s = %#v, want %#v", k, got, w)
		}
	}
}

// The sidecars' limits come from the file or the environment (no flags), and
// a bad one is reported with where it came from, as `ailurus start -t` prints.
func TestLoadSidecarLimits(t *testing.T) {
	file := "redpanda:\n  sidecar_cpu_quota_percent: 10\n  sidecar_memory_max_bytes: 536870912\n"
	c, err := layers{file: file}.load(t)
	if err != nil {
		t.Fatal(err)
	}
	if c.SidecarCPUQuotaPercent != 10 || c.SidecarMemoryMaxBytes != 512<<20 {
		t.Errorf("file: %d%%, %d bytes; want 10%%, 512 MiB", c.SidecarCPUQuotaPercent, c.SidecarMemoryMaxBytes)
	}
	c, err = layers{file: file, env: map[string]string{
		"AILURUS_SIDECAR_CPU_QUOTA_PERCENT": "35",
		"AILURUS_SIDECAR_MEMORY_MAX_BYTES":  "2147483648",
	}}.load(t)
	if err != nil {
		t.Fatal(err)
	}
	if c.SidecarCPUQuotaPercent != 35 || c.SidecarMemoryMaxBytes != 2<<30 {
		t.Errorf("file+env: %d%%, %d bytes; want 35%%, 2 GiB", c.SidecarCPUQuotaPercent, c.SidecarMemoryMaxBytes)
	}
	c, err = layers{opts: LoadOptions{ReadFile: noDefaultFile}}.load(t)
	if err != nil {
		t.Fatal(err)
	}
	if c.SidecarCPUQuotaPercent != DefaultSidecarCPUQuotaPercent || c.SidecarMemoryMaxBytes != DefaultSidecarMemoryMaxBytes {
		t.Errorf("defaults: %d%%, %d bytes", c.SidecarCPUQuotaPercent, c.SidecarMemoryMaxBytes)
	}

	_, err = layers{file: "redpanda:\n  sidecar_cpu_quota_percent: 0\n  sidecar_memory_max_bytes: 1G\n"}.load(t)
	want := map[string][]string{ // path: line, words
		"redpanda.sidecar_cpu_quota_percent": {":2", "below 1%"},
		"redpanda.sidecar_memory_max_bytes":  {":3", "integer", `"1G"`},
	}
	for _, p := range problemsOf(t, err) {
		w, ok := want[p.Path]
		if !ok {
			t.Errorf("unexpected problem %v", p)
			continue
		}
		delete(want, p.Path)
		if !strings.HasSuffix(p.Source, w[0]) {
			t.Errorf("%s: problem from %q, want the file's line %s", p.Path, p.Source, w[0])
		}
		for _, word := range w[1:] {
			if !strings.Contains(p.Message, word) {
				t.Errorf("%s: %q does not mention %q", p.Path, p.Message, word)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("no problem at %v:\n%v", want, err)
	}
	_, err = layers{env: map[string]string{
		"AILURUS_SIDECAR_CPU_QUOTA_PERCENT": "twenty",
		"AILURUS_SIDECAR_MEMORY_MAX_BYTES":  "1024",
	}, opts: LoadOptions{ReadFile: noDefaultFile}}.load(t)
	wantProblem(t, err, "env AILURUS_SIDECAR_CPU_QUOTA_PERCENT", "redpanda.sidecar_cpu_quota_percent", `"twenty"`, "integer")
	wantProblem(t, err, "env AILURUS_SIDECAR_MEMORY_MAX_BYTES", "redpanda.sidecar_memory_max_bytes", "1024", "minimum")
	if n := len(problemsOf(t, err)); n != 2 {
		t.Errorf("%d problems, want 2:\n%v", n, err)
	}
}
