package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile writes a YAML file in a fresh temporary directory and returns its
// path.
func writeFile(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ailurus.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadFile loads yaml as the only layer.
func loadYAML(t *testing.T, yaml string) (*Config, string, error) {
	t.Helper()
	path := writeFile(t, yaml)
	c, err := Load(LoadOptions{Path: path})
	return c, path, err
}

// problemsOf returns the problems in err, failing if err is not a
// *ValidationError.
func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	return ve.Problems
}

// wantProblem fails unless err holds a problem at path from source whose
// message contains every one of words.
func wantProblem(t *testing.T, err error, source, path string, words ...string) {
	t.Helper()
	for _, p := range problemsOf(t, err) {
		if p.Path != path || p.Source != source {
			continue
		}
		for _, w := range words {
			if !strings.Contains(p.Message, w) {
				t.Errorf("problem at %s (%s) is %q; want it to mention %q", path, source, p.Message, w)
			}
		}
		return
	}
	t.Errorf("no problem at %s from %s; problems:\n%v", path, source, err)
}

// A file shaped like Redpanda's own default redpanda.yaml loads as is.
func TestFileRedpandaShape(t *testing.T) {
	c, path, err := loadYAML(t, `
redpanda:
  data_directory: "/srv/ailurus"
  node_id: 2
  seed_servers: []
  rpc_server:
    address: "0.0.0.0"
    port: 33145
  advertised_rpc_api:
    address: "10.0.0.2"
    port: 33145
  kafka_api:
    - address: "0.0.0.0"
      port: 9092
  advertised_kafka_api:
    - address: "10.0.0.2"
      port: 9092
  admin:
    address: "0.0.0.0"
    port: 9644
  developer_mode: true
cluster:
  auto_create_topics_enabled: true
  log_segment_size: 268435456
`)
	if err != nil {
		t.Fatalf("Load:\n%v", err)
	}
	if c.File() != path {
		t.Errorf("File() = %q, want %q", c.File(), path)
	}
	if c.NodeID != 2 || c.DataDirectory != "/srv/ailurus" || !c.DeveloperMode {
		t.Errorf("node_id=%d data_directory=%q developer_mode=%v", c.NodeID, c.DataDirectory, c.DeveloperMode)
	}
	if len(c.Admin) != 1 || c.Admin[0].HostPort() != "0.0.0.0:9644" {
		t.Errorf("admin given as one mapping: %v", c.Admin)
	}
	if c.AdvertisedRPCAPI.HostPort() != "10.0.0.2:33145" || len(c.AdvertisedKafkaAPI) != 1 {
		t.Errorf("advertised: rpc %v kafka %v", c.AdvertisedRPCAPI, c.AdvertisedKafkaAPI)
	}
	if v, _ := c.ClusterValue("log_segment_size"); v != int64(256<<20) {
		t.Errorf("log_segment_size = %#v", v)
	}
}

func TestFileUnknownKeysAllReported(t *testing.T) {
	_, path, err := loadYAML(t, `redpanda:
  data_directory: /srv/ailurus
  kafak_api:
    - address: 0.0.0.0
  kafka_api:
    - address: 0.0.0.0
      port: 9092
      authentication_method: sasl
  seed_servers:
    - host:
        address: 10.0.0.1
        prot: 33145
  rack: r1
  auto_create_topics_enabled: true
zookeeper: localhost:2181
rpk:
  tune_network: true
cluster:
  log_segmnt_size: 1048576
`)
	if err == nil {
		t.Fatal("unknown keys accepted")
	}
	at := func(line string) string { return path + ":" + line }
	wantProblem(t, err, at("3"), "redpanda.kafak_api", "unknown key", `did you mean "kafka_api"`)
	wantProblem(t, err, at("8"), "redpanda.kafka_api[0].authentication_method", "unknown key")
	wantProblem(t, err, at("12"), "redpanda.seed_servers[0].host.prot", `did you mean "port"`)
	wantProblem(t, err, at("13"), "redpanda.rack", "Redpanda")
	wantProblem(t, err, at("14"), "redpanda.auto_create_topics_enabled", "cluster property", "cluster:")
	wantProblem(t, err, at("15"), "zookeeper", "unknown key")
	wantProblem(t, err, at("16"), "rpk", "Redpanda")
	wantProblem(t, err, at("19"), "cluster.log_segmnt_size", "unknown cluster property", `did you mean "log_segment_size"`)
	if n := len(problemsOf(t, err)); n != 8 {
		t.Errorf("%d problems, want 8:\n%v", n, err)
	}
	// The known keys around the unknown ones were still applied and checked:
	// nothing else is wrong with this file.
}

func TestFileSyntaxErrorHasLine(t *testing.T) {
	_, path, err := loadYAML(t, "redpanda:\n  node_id: 1\n   smp: 2\n")
	ps := problemsOf(t, err)
	if len(ps) != 1 {
		t.Fatalf("want 1 problem, got:\n%v", err)
	}
	if ps[0].Source != path+":3" || !strings.Contains(ps[0].Message, "YAML syntax") {
		t.Errorf("problem = %q, want source %s:3 and a YAML syntax message", ps[0], path)
	}
}

func TestFileWrongTypesAllReported(t *testing.T) {
	_, path, err := loadYAML(t, `redpanda:
  node_id: one
  smp: [2]
  developer_mode: maybe
  data_directory:
  kafka_api: "0.0.0.0:9092"
  admin:
    - "127.0.0.1:9644"
  rpc_server: 33145
cluster:
  default_topic_partitions: many
  log_retention_ms: -5
`)
	at := func(line string) string { return path + ":" + line }
	wantProblem(t, err, at("2"), "redpanda.node_id", "want an integer", `"one"`)
	wantProblem(t, err, at("3"), "redpanda.smp", "want an integer", "a list")
	wantProblem(t, err, at("4"), "redpanda.developer_mode", "true or false")
	wantProblem(t, err, at("5"), "redpanda.data_directory", "want a string", "null")
	wantProblem(t, err, at("6"), "redpanda.kafka_api", "want a list of {name, address, port}")
	wantProblem(t, err, at("8"), "redpanda.admin[0]", "want a mapping")
	wantProblem(t, err, at("9"), "redpanda.rpc_server", "want a mapping")
	wantProblem(t, err, at("11"), "cluster.default_topic_partitions", "wrong type")
	wantProblem(t, err, at("12"), "cluster.log_retention_ms", "invalid value")
	if n := len(problemsOf(t, err)); n != 9 {
		t.Errorf("%d problems, want 9 (no follow-on problems):\n%v", n, err)
	}
}

func TestFileBadValuesPointAtTheirLine(t *testing.T) {
	_, path, err := loadYAML(t, `redpanda:
  kafka_api:
    - name: internal
      address: 0.0.0.0
      port: 9092
    - name: external
      address: kafka.example..com
      port: 70000
`)
	wantProblem(t, err, path+":7", "redpanda.kafka_api[1].address", "not an IP address or host name")
	wantProblem(t, err, path+":8", "redpanda.kafka_api[1].port", "70000")
}

func TestFileDuplicateKey(t *testing.T) {
	_, path, err := loadYAML(t, "redpanda:\n  smp: 2\n  smp: 4\n")
	wantProblem(t, err, path+":3", "redpanda.smp", "duplicate key", "line 2")
}

func TestFileSecondDocument(t *testing.T) {
	_, path, err := loadYAML(t, "redpanda:\n  smp: 2\n---\nredpanda:\n  smp: 4\n")
	wantProblem(t, err, path+":3", "", "second YAML document")
}

func TestFileEmptyAndDefaults(t *testing.T) {
	for _, y := range []string{"", "# only a comment\n", "redpanda:\ncluster:\n"} {
		c, _, err := loadYAML(t, y)
		if err != nil {
			t.Fatalf("%q: %v", y, err)
		}
		if c.Digest() != func() string { d := DefaultConfig(); return d.Digest() }() {
			t.Errorf("%q: config differs from the defaults", y)
		}
	}
}

func TestFilePartialAddressKeepsDefaults(t *testing.T) {
	c, _, err := loadYAML(t, "redpanda:\n  rpc_server:\n    address: 10.0.0.7\n  kafka_api:\n    - address: 10.0.0.7\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.RPCServer.HostPort() != "10.0.0.7:33145" {
		t.Errorf("rpc_server = %v: a port left out should keep 33145", c.RPCServer)
	}
	if c.KafkaAPI[0].HostPort() != "10.0.0.7:9092" {
		t.Errorf("kafka_api = %v: a port left out should be 9092", c.KafkaAPI)
	}
}
