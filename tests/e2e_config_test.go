package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2EConfigCheck: `ailurus start -t` validates a configuration and
// prints every problem at once (unknown keys included), exiting non-zero; a
// good one passes.
func TestE2EConfigCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`redpanda:
  node_id: -3
  data_directory: ""
  kafka_api:
    - address: 0.0.0.0
      port: 99999
  no_such_key: 1
cluster:
  default_topic_partitions: "many"
  not_a_property: true
`), 0o644)
	out, err := exec.Command(binary, "start", "-t", "--config", bad).CombinedOutput()
	if err == nil {
		t.Fatalf("bad config accepted:\n%s", out)
	}
	for _, want := range []string{"node_id", "data_directory", "99999", "no_such_key", "default_topic_partitions", "not_a_property"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output does not mention %s:\n%s", want, out)
		}
	}
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("redpanda:\n  data_directory: "+filepath.Join(dir, "data")+"\ncluster:\n  default_topic_partitions: 3\n"), 0o644)
	if out, err := exec.Command(binary, "start", "-t", "--config", good).CombinedOutput(); err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("good config: %v\n%s", err, out)
	}
}

// TestE2EDataDirInUse: a second node on the same data directory is refused
// with a message naming it, and the first keeps serving.
func TestE2EDataDirInUse(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 1})
	out, err := exec.Command(binary, "start", "--dev", "--data-directory", n.DataDir,
		"--kafka-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--rpc-addr", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use") {
		t.Fatalf("second node on %s: %v\n%s", n.DataDir, err, tail(string(out), 10))
	}
	if _, err := n.Admin().ListBrokers(ctxT(t, 30*time.Second)); err != nil {
		t.Fatalf("first node stopped serving: %v", err)
	}
}
