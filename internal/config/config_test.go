package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestDefaultConfigIsValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("DefaultConfig does not validate:\n%v", err)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("DefaultConfig has warnings: %v", w)
	}
	if c.DataDirectory != "/var/lib/ailurus/data" {
		t.Errorf("data_directory = %q", c.DataDirectory)
	}
	if got := c.KafkaAPI[0].HostPort(); got != "0.0.0.0:9092" {
		t.Errorf("kafka_api = %s, want 0.0.0.0:9092", got)
	}
	if got := c.Admin[0].HostPort(); got != "0.0.0.0:9644" {
		t.Errorf("admin = %s, want 0.0.0.0:9644", got)
	}
	if got := c.RPCServer.HostPort(); got != "0.0.0.0:33145" {
		t.Errorf("rpc_server = %s, want 0.0.0.0:33145", got)
	}
	if c.DeveloperMode || c.SMP != 0 || len(c.SeedServers) != 0 {
		t.Errorf("developer_mode=%v smp=%d seeds=%v", c.DeveloperMode, c.SMP, c.SeedServers)
	}
	if v, _ := c.ClusterValue("auto_create_topics_enabled"); v != false {
		t.Errorf("auto_create_topics_enabled = %v, want false", v)
	}
}

func TestDevConfig(t *testing.T) {
	c := DevConfig(".ailurus")
	if err := c.Validate(); err != nil {
		t.Fatalf("DevConfig does not validate:\n%v", err)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("DevConfig has warnings (a relative data dir is expected in dev): %v", w)
	}
	checks := []struct{ name, got, want string }{
		{"data_directory", c.DataDirectory, ".ailurus/data"},
		{"kafka_api", c.KafkaAPI[0].HostPort(), "127.0.0.1:9092"},
		{"admin", c.Admin[0].HostPort(), "127.0.0.1:9644"},
		{"rpc_server", c.RPCServer.HostPort(), "127.0.0.1:33145"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.name, ch.got, ch.want)
		}
	}
	if !c.DeveloperMode {
		t.Error("developer_mode is false")
	}
	if v, _ := c.ClusterValue("auto_create_topics_enabled"); v != true {
		t.Errorf("auto_create_topics_enabled = %v, want true", v)
	}
	// Developer mode must not weaken durability.
	if v, _ := c.ClusterValue("write_caching_default"); v != "false" {
		t.Errorf("write_caching_default = %v in dev, want false (fsync before ack)", v)
	}
	// DevConfig must not share its cluster map with DefaultConfig's.
	d := DefaultConfig()
	if v, _ := d.ClusterValue("auto_create_topics_enabled"); v != false {
		t.Error("DevConfig leaked auto_create_topics_enabled into DefaultConfig")
	}
}

// problemPaths returns the paths of the problems in err, failing if err is not
// a *ValidationError.
func problemPaths(t *testing.T, err error) []string {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	var paths []string
	for _, p := range ve.Problems {
		paths = append(paths, p.Path)
	}
	return paths
}

func wantPaths(t *testing.T, err error, want ...string) {
	t.Helper()
	got := problemPaths(t, err)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("no problem at %s; problems:\n%v", w, err)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := DefaultConfig()
	c.NodeID = -1
	c.DataDirectory = ""
	c.SMP = -2
	c.KafkaAPI = []Listener{{Address: "0.0.0.0:9092", Port: 70000}}
	c.AdvertisedKafkaAPI = []Listener{{Name: "external", Address: "0.0.0.0", Port: 0}}
	c.Admin = nil
	c.RPCServer = Address{Address: "10.0.0.256", Port: -1}
	c.SeedServers = []SeedServer{{Host: Address{Address: "a", Port: 33145}}, {Host: Address{Address: "a", Port: 33145}}}
	c.Cluster = map[string]any{
		"log_segment_size":           int64(10),
		"auto_create_topics_enabled": "yes",
		"no_such_property":           1,
	}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted a broken config")
	}
	want := []string{
		"redpanda.node_id",
		"redpanda.data_directory",
		"redpanda.smp",
		"redpanda.kafka_api[0].address",
		"redpanda.kafka_api[0].port",
		"redpanda.advertised_kafka_api[0].address",
		"redpanda.advertised_kafka_api[0].port",
		"redpanda.advertised_kafka_api[0].name",
		"redpanda.admin",
		"redpanda.rpc_server.address",
		"redpanda.rpc_server.port",
		"redpanda.seed_servers[1].host",
		"cluster.log_segment_size",
		"cluster.auto_create_topics_enabled",
		"cluster.no_such_property",
	}
	wantPaths(t, err, want...)
	// One problem per line, so `ailurus start -t` prints them all.
	if lines := strings.Count(err.Error(), "\n") + 1; lines != len(problemPaths(t, err)) {
		t.Errorf("Error() has %d lines for %d problems:\n%v", lines, len(problemPaths(t, err)), err)
	}
}

func TestValidatePortClashes(t *testing.T) {
	c := DefaultConfig()
	c.Admin = []Listener{{Address: "127.0.0.1", Port: 9092}} // inside 0.0.0.0:9092
	c.SMP = 4
	c.RPCServer = Address{Address: "0.0.0.0", Port: 9641} // 9641-9644
	c.KafkaAPI = append(c.KafkaAPI, Listener{Name: "b", Address: "10.0.0.1", Port: 9644})
	wantPaths(t, c.Validate(), "redpanda.admin[0].port", "redpanda.rpc_server.port")

	ok := DefaultConfig()
	ok.KafkaAPI = []Listener{{Name: "a", Address: "10.0.0.1", Port: 9092}, {Name: "b", Address: "10.0.0.2", Port: 9092}}
	ok.Admin = []Listener{{Address: "127.0.0.1", Port: 0}, {Address: "127.0.0.2", Port: 0}}
	if err := ok.Validate(); err != nil {
		t.Errorf("distinct addresses on one port, or port 0 twice, rejected:\n%v", err)
	}
}

func TestValidateRPCPortsPerShard(t *testing.T) {
	c := DefaultConfig()
	c.SMP = 8
	c.RPCServer.Port = 65530 // shards would need 65530-65537
	wantPaths(t, c.Validate(), "redpanda.rpc_server.port")
}

func TestValidateListenerNames(t *testing.T) {
	c := DefaultConfig()
	c.KafkaAPI = []Listener{{Address: "0.0.0.0", Port: 9092}, {Address: "0.0.0.0", Port: 9093}}
	wantPaths(t, c.Validate(), "redpanda.kafka_api[1].name")

	c.KafkaAPI = []Listener{{Name: "internal", Address: "0.0.0.0", Port: 9092}, {Name: "external", Address: "0.0.0.0", Port: 9093}}
	c.AdvertisedKafkaAPI = []Listener{{Name: "external", Address: "kafka.example.com", Port: 19093}}
	if err := c.Validate(); err != nil {
		t.Errorf("named listeners rejected:\n%v", err)
	}
}

func TestValidateClusterCrossChecks(t *testing.T) {
	c := DefaultConfig()
	c.Cluster["kafka_batch_max_bytes"] = 200 << 20 // above the 100 MiB request limit
	c.Cluster["group_max_session_timeout_ms"] = 1000
	wantPaths(t, c.Validate(), "cluster.kafka_batch_max_bytes", "cluster.group_max_session_timeout_ms")
}

func TestHostProblem(t *testing.T) {
	good := []string{"0.0.0.0", "::", "127.0.0.1", "::1", "fe80::1%eth0", "localhost", "kafka-0.kafka.svc.cluster.local", "node_1.internal", "host."}
	for _, h := range good {
		if msg := hostProblem(h); msg != "" {
			t.Errorf("hostProblem(%q) = %q, want none", h, msg)
		}
	}
	bad := []string{"", "10.0.0.256", "0.0.0.0:9092", "[::1]", "bad host", "-x.example.com", "x..com", strings.Repeat("a", 64) + ".com"}
	for _, h := range bad {
		if msg := hostProblem(h); msg == "" {
			t.Errorf("hostProblem(%q) accepted it", h)
		}
	}
}

func TestWarnings(t *testing.T) {
	c := DefaultConfig()
	c.SMP = EffectiveSMP() + 1
	c.DataDirectory = "data"
	if err := c.Validate(); err != nil {
		t.Fatalf("more shards than CPUs, or a relative data directory, must not be an error:\n%v", err)
	}
	var paths []string
	for _, w := range c.Warnings() {
		paths = append(paths, w.Path)
	}
	for _, want := range []string{"redpanda.smp", "redpanda.data_directory"} {
		if !slices.Contains(paths, want) {
			t.Errorf("no warning at %s; got %v", want, c.Warnings())
		}
	}
}

func TestAdvertised(t *testing.T) {
	c := DefaultConfig()
	c.KafkaAPI = []Listener{{Name: "internal", Address: "0.0.0.0", Port: 9092}, {Name: "external", Address: "10.1.1.1", Port: 9093}}
	c.AdvertisedKafkaAPI = []Listener{{Name: "external", Address: "kafka.example.com", Port: 443}}
	got := c.AdvertisedKafka("node-a")
	want := []Listener{{Name: "internal", Address: "node-a", Port: 9092}, {Name: "external", Address: "kafka.example.com", Port: 443}}
	if !slices.Equal(got, want) {
		t.Errorf("AdvertisedKafka = %v, want %v", got, want)
	}
	if got := c.AdvertisedRPC("node-a"); got != (Address{"node-a", 33145}) {
		t.Errorf("AdvertisedRPC = %v", got)
	}
	c.AdvertisedRPCAPI = Address{"10.0.0.5", 33145}
	if got := c.AdvertisedRPC("node-a"); got != c.AdvertisedRPCAPI {
		t.Errorf("AdvertisedRPC = %v, want the configured one", got)
	}
}

func TestDigest(t *testing.T) {
	a, b := DefaultConfig(), DefaultConfig()
	if a.Digest() != b.Digest() {
		t.Fatal("equal configs, different digests")
	}
	if len(a.Digest()) != 12 {
		t.Errorf("digest %q is not 12 hex digits", a.Digest())
	}
	b.SeedServers = []SeedServer{}
	b.Cluster = nil
	if a.Digest() != b.Digest() {
		t.Error("an empty list or map changed the digest")
	}
	b.setOrigin("redpanda.node_id", "somewhere:1")
	if a.Digest() != b.Digest() {
		t.Error("where a value came from changed the digest")
	}
	b.NodeID = 1
	if a.Digest() == b.Digest() {
		t.Error("node_id change did not change the digest")
	}
	c := DefaultConfig()
	c.Cluster["log_segment_size"] = int64(1 << 30)
	if a.Digest() == c.Digest() {
		t.Error("cluster value change did not change the digest")
	}
}

func TestEffectiveSMP(t *testing.T) {
	if n := EffectiveSMP(); n < 1 {
		t.Fatalf("EffectiveSMP() = %d, want >= 1", n)
	}
	c := DefaultConfig()
	if c.Shards() != EffectiveSMP() {
		t.Errorf("smp 0: Shards() = %d, want EffectiveSMP() = %d", c.Shards(), EffectiveSMP())
	}
	c.SMP = 3
	if c.Shards() != 3 {
		t.Errorf("smp 3: Shards() = %d", c.Shards())
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"kafka_api", "admin", "rpc_server", "seed_servers"}
	for in, want := range map[string]string{"kafak_api": "kafka_api", "admni": "admin", "seed_server": "seed_servers", "zookeeper": ""} {
		if got := suggest(in, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSidecarLimits(t *testing.T) {
	c := DefaultConfig()
	if c.SidecarCPUQuotaPercent != 20 || c.SidecarMemoryMaxBytes != 1<<30 {
		t.Errorf("defaults: sidecar_cpu_quota_percent=%d sidecar_memory_max_bytes=%d, want 20 and 1 GiB",
			c.SidecarCPUQuotaPercent, c.SidecarMemoryMaxBytes)
	}
	for _, tc := range []struct {
		percent int
		bytes   int64
		bad     []string
	}{
		{1, 64 << 20, nil},
		{150, 8 << 30, nil}, // one and a half CPUs
		{0, 1 << 30, []string{"redpanda.sidecar_cpu_quota_percent"}},
		{-5, 1 << 30, []string{"redpanda.sidecar_cpu_quota_percent"}},
		{8192*100 + 1, 1 << 30, []string{"redpanda.sidecar_cpu_quota_percent"}},
		{20, 64<<20 - 1, []string{"redpanda.sidecar_memory_max_bytes"}},
		{20, 0, []string{"redpanda.sidecar_memory_max_bytes"}},
		{0, -1, []string{"redpanda.sidecar_cpu_quota_percent", "redpanda.sidecar_memory_max_bytes"}},
	} {
		c := DefaultConfig()
		c.SidecarCPUQuotaPercent, c.SidecarMemoryMaxBytes = tc.percent, tc.bytes
		err := c.Validate()
		if tc.bad == nil {
			if err != nil {
				t.Errorf("%d%%, %d bytes: %v", tc.percent, tc.bytes, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%d%%, %d bytes: accepted", tc.percent, tc.bytes)
			continue
		}
		wantPaths(t, err, tc.bad...)
		if got := problemPaths(t, err); len(got) != len(tc.bad) {
			t.Errorf("%d%%, %d bytes: problems at %v, want %v", tc.percent, tc.bytes, got, tc.bad)
		}
	}

	// More than every CPU is legal but limits nothing: a warning.
	c = DefaultConfig()
	c.SidecarCPUQuotaPercent = 100*EffectiveSMP() + 1
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if w := c.Warnings(); len(w) != 1 || w[0].Path != "redpanda.sidecar_cpu_quota_percent" {
		t.Errorf("warnings %v, want one at redpanda.sidecar_cpu_quota_percent", w)
	}
}
