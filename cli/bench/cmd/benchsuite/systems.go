package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// system is one broker under test, running as a child process so that its
// CPU time and memory can be read from /proc apart from the load generator's.
type system struct {
	name  string
	kafka string // host:port
	cmd   *exec.Cmd
	done  chan struct{}
}

var readyRe = regexp.MustCompile(`msg="node ready".* kafka=(\S+)`)

// startAilurus runs `ailurus start` in durable (default) mode with 2 shards
// on free ports, data under dir.
func startAilurus(bin, dir string) (*system, error) {
	return startChild("ailurus", exec.Command(bin, "start", "--dev",
		"--data-directory", filepath.Join(dir, "ailurus-data"),
		"--kafka-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--rpc-addr", "127.0.0.1:0",
		"--smp", "2"), readyRe)
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
	return startChild(name, cmd, kfakeReadyRe)
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

func startChild(name string, cmd *exec.Cmd, ready *regexp.Regexp) (*system, error) {
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
			if len(tail) < 20 {
				tail = append(tail, sc.Text())
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
	case <-time.After(90 * time.Second):
		s.stop()
		return nil, fmt.Errorf("%s not ready within 90s", name)
	}
}

// stop sends SIGTERM and waits up to a minute before killing.
func (s *system) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}
