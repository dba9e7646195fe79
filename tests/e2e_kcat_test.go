package tests

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// TestE2EKcat drives kcat (librdkafka): -L metadata, -P produce into an
// auto-created topic, -C -e consume back to the end.
func TestE2EKcat(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed: `make test` installs it (scripts/test-deps.sh)")
	}
	n := RunNode(t, NodeOptions{Shards: 2})
	var in bytes.Buffer
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&in, "line-%d\n", i)
	}
	for _, topic := range []string{"kcat-a", "kcat-b", "kcat-c"} {
		p := exec.Command(kcat, "-b", n.Kafka, "-P", "-t", topic, "-X", "topic.request.required.acks=-1")
		p.Stdin = bytes.NewReader(in.Bytes())
		if out, err := p.CombinedOutput(); err != nil {
			t.Fatalf("kcat -P %s: %v\n%s", topic, err, out)
		}
		c := exec.Command(kcat, "-b", n.Kafka, "-C", "-t", topic, "-e", "-q")
		out, err := c.Output()
		if err != nil {
			t.Fatalf("kcat -C %s: %v", topic, err)
		}
		if !bytes.Equal(out, in.Bytes()) {
			first, _, _ := strings.Cut(string(out), "\n")
			t.Fatalf("topic %s: read %d bytes, want %d in order (first line %q)", topic, len(out), in.Len(), first)
		}
	}
	l, err := exec.Command(kcat, "-b", n.Kafka, "-L").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat -L: %v\n%s", err, l)
	}
	for _, want := range []string{"1 brokers", "topic \"kcat-a\" with 1 partitions", "topic \"kcat-c\""} {
		if !strings.Contains(string(l), want) {
			t.Fatalf("kcat -L lacks %q:\n%s", want, l)
		}
	}
}
