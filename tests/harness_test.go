package tests

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// binary is the ailurus binary built once for the whole suite.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ailurus-e2e-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "ailurus")
	build := exec.Command("go", "build", "-o", binary, "../cmd/ailurus")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building ailurus:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Node is a running `ailurus start` process.
type Node struct {
	t        *testing.T
	DataDir  string
	Shards   int
	Kafka    string // host:port the node serves Kafka on
	AdminURL string // http://host:port of the admin API

	cmd  *exec.Cmd
	mu   sync.Mutex
	logs strings.Builder
	done chan struct{}
}

// NodeOptions shape a node; zero values give 2 shards in a fresh temp dir.
type NodeOptions struct {
	Shards  int
	DataDir string   // reuse a data directory (restart)
	Kafka   string   // reuse a Kafka address (restart)
	Args    []string // extra flags
}

var (
	readyRe = regexp.MustCompile(`msg="node ready".* kafka=(\S+)`)
	adminRe = regexp.MustCompile(`msg="admin API listening".* addr=(\S+)`)
)

// RunNode starts a node on free ports and waits until every shard serves.
// It is stopped (SIGTERM) at the end of the test.
func RunNode(t *testing.T, o NodeOptions) *Node {
	t.Helper()
	if o.Shards == 0 {
		o.Shards = 2
	}
	if o.DataDir == "" {
		o.DataDir = filepath.Join(t.TempDir(), "data")
	}
	if o.Kafka == "" {
		o.Kafka = "127.0.0.1:0"
	}
	args := append([]string{"start", "--dev",
		"--data-directory", o.DataDir,
		"--kafka-addr", o.Kafka,
		"--admin-addr", "127.0.0.1:0",
		"--rpc-addr", "127.0.0.1:0",
		"--smp", fmt.Sprint(o.Shards),
	}, o.Args...)
	n := &Node{t: t, DataDir: o.DataDir, Shards: o.Shards, done: make(chan struct{})}
	n.cmd = exec.Command(binary, args...)
	n.cmd.Dir = filepath.Dir(o.DataDir)
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	pr, pw := io.Pipe()
	n.cmd.Stdout, n.cmd.Stderr = pw, pw
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			n.mu.Lock()
			n.logs.WriteString(line + "\n")
			n.mu.Unlock()
			if os.Getenv("AILURUS_TEST_LOG") != "" {
				fmt.Fprintln(os.Stderr, line)
			}
			if m := adminRe.FindStringSubmatch(line); m != nil {
				n.mu.Lock()
				n.AdminURL = "http://" + m[1]
				n.mu.Unlock()
			}
			if m := readyRe.FindStringSubmatch(line); m != nil {
				select {
				case ready <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { n.cmd.Wait(); pw.Close(); close(n.done) }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node log (last 150 lines):\n%s", tail(n.Logs(), 150))
		}
		n.Stop()
	})
	select {
	case n.Kafka = <-ready:
	case <-n.done:
		t.Fatalf("node exited before ready:\n%s", n.Logs())
	case <-time.After(90 * time.Second):
		t.Fatalf("node not ready within 90s:\n%s", n.Logs())
	}
	return n
}

// Logs returns everything the node printed so far.
func (n *Node) Logs() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.logs.String()
}

// Stop sends SIGTERM and waits for a clean exit (the test fails otherwise).
func (n *Node) Stop() {
	select {
	case <-n.done:
		return
	default:
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
		if code := n.cmd.ProcessState.ExitCode(); code != 0 {
			n.t.Errorf("node exited with %d after SIGTERM:\n%s", code, tail(n.Logs(), 40))
		}
	case <-time.After(60 * time.Second):
		n.cmd.Process.Kill()
		<-n.done
		n.t.Errorf("node did not stop within 60s of SIGTERM")
	}
}

// Restart stops the node and starts it again on the same address and data.
func (n *Node) Restart() *Node {
	n.Stop()
	return RunNode(n.t, NodeOptions{Shards: n.Shards, DataDir: n.DataDir, Kafka: n.Kafka})
}

// ShardPIDs returns the pids of the node's shard processes, by shard id.
func (n *Node) ShardPIDs() map[int]int {
	out := map[int]int{}
	re := regexp.MustCompile(`msg="child started".* child=shard-(\d+) pid=(\d+)`)
	for _, m := range re.FindAllStringSubmatch(n.Logs(), -1) {
		var id, pid int
		fmt.Sscan(m[1], &id)
		fmt.Sscan(m[2], &pid)
		out[id] = pid
	}
	return out
}

// Client is a franz-go client for the node; closed at the end of the test.
func (n *Node) Client(opts ...kgo.Opt) *kgo.Client {
	n.t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(n.Kafka)}, opts...)...)
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(cl.Close)
	return cl
}

// Admin is a kadm client for the node.
func (n *Node) Admin() *kadm.Client { return kadm.NewClient(n.Client()) }

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
