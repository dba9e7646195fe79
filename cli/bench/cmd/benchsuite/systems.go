package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// system is one broker under test, running as a child process so that its
// CPU time and memory can be read from /proc apart from the load generator's.
type system struct {
	name  string
	kafka string // host:port of the Kafka API, or of NATS when nats is set
	nats  bool   // a NATS server, driven by natsload instead of bench.Run
	cmd   *exec.Cmd
	done  chan struct{}

	mu       sync.Mutex
	problems []string // the last warning and error lines the child logged
	admin    string   // Ailurus: base URL of the admin API, from its log
}

// adminRe finds the admin API's address in Ailurus' log.
var adminRe = regexp.MustCompile(`msg="admin API listening".* addr=(\S+)`)

// adminURL is the base URL of the child's admin API, "" if it has none.
func (s *system) adminURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.admin
}

// childReadyTimeout bounds how long a child may take to log that it is ready.
const childReadyTimeout = 90 * time.Second

// maxProblems is how many warning/error lines a system keeps.
const maxProblems = 20

var problemRe = regexp.MustCompile(`level=(WARN|ERROR)`)

// lastProblems returns the latest warning and error lines of the child.
func (s *system) lastProblems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.problems)
}

var readyRe = regexp.MustCompile(`msg="node ready".* kafka=(\S+)`)

// startAilurus runs `ailurus start` in durable (default) mode with 2 shards
// on free ports, data in dataDir, and waits up to ready for `node ready`.
func startAilurus(bin, dataDir string, smp int, ready time.Duration) (*system, error) {
	return startChild(sysAilurus, exec.Command(bin, "start", "--dev",
		"--data-directory", dataDir,
		"--kafka-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--rpc-addr", "127.0.0.1:0",
		"--smp", strconv.Itoa(smp)), readyRe, ready)
}

// kfakeEnv tells a re-executed benchsuite to serve kfake instead: "mem" or
// "fsync:<dir>".
const kfakeEnv = "AILURUS_BENCHSUITE_KFAKE"

var kfakeReadyRe = regexp.MustCompile(`^kfake ready kafka=(\S+)`)

// startKfake re-executes this program as a kfake broker; with dataDir set,
// kfake persists to it and fsyncs every batch (kfake.SyncWrites).
func startKfake(name, dataDir string) (*system, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	mode := "mem"
	if dataDir != "" {
		mode = "fsync:" + dataDir
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), kfakeEnv+"="+mode)
	return startChild(name, cmd, kfakeReadyRe, childReadyTimeout)
}

// serveKfake is the child side of startKfake: it never returns.
func serveKfake(mode string) {
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(0)}
	if dir, ok := strings.CutPrefix(mode, "fsync:"); ok {
		opts = append(opts, kfake.DataDir(dir), kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfake:", err)
		os.Exit(1)
	}
	fmt.Printf("kfake ready kafka=%s\n", c.ListenAddrs()[0])
	// The parent closes stdin (or dies, Pdeathsig) to stop us.
	io.Copy(io.Discard, os.Stdin)
	c.Close()
	os.Exit(0)
}

func startChild(name string, cmd *exec.Cmd, ready *regexp.Regexp, timeout time.Duration) (*system, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if _, err := cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	s := &system{name: name, cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	var tail []string
	lines := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if m := ready.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
			if m := adminRe.FindStringSubmatch(sc.Text()); m != nil {
				s.mu.Lock()
				s.admin = "http://" + m[1]
				s.mu.Unlock()
			}
			if len(tail) < 20 {
				tail = append(tail, sc.Text())
			}
			if problemRe.MatchString(sc.Text()) {
				s.mu.Lock()
				if len(s.problems) == maxProblems {
					s.problems = s.problems[1:]
				}
				s.problems = append(s.problems, sc.Text())
				s.mu.Unlock()
			}
		}
		lines <- tail
		cmd.Wait()
		close(s.done)
	}()
	select {
	case s.kafka = <-addr:
		return s, nil
	case t := <-lines:
		return nil, fmt.Errorf("%s exited before ready:\n%s", name, strings.Join(t, "\n"))
	case <-time.After(timeout):
		s.stop()
		return nil, fmt.Errorf("%s not ready within %s; last warnings: %s", name, timeout, strings.Join(s.lastProblems(), "\n"))
	}
}

// stop sends SIGTERM and waits up to a minute before killing. It returns
// how long the child took to exit and whether it had to be killed.
func (s *system) stop() (took time.Duration, killed bool) {
	start := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		killed = true
	}
	return time.Since(start), killed
}
