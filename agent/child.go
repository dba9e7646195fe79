package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// child supervises one process the agent runs (a shard; later the uploader
// and the transformer): start, restart with backoff when it dies, stop with
// SIGTERM then SIGKILL. One goroutine (run) owns the process.
type child struct {
	name  string
	log   *slog.Logger
	start func() (*exec.Cmd, error) // builds and starts a fresh process
	// onExit is told each unexpected exit (metrics, readiness).
	onExit func(err error)

	mu  sync.Mutex
	cmd *exec.Cmd
	pid int
}

// Backoff between restarts: doubled from minBackoff up to maxBackoff, reset
// once a process stayed up for healthyAfter.
const (
	minBackoff   = 100 * time.Millisecond
	maxBackoff   = 10 * time.Second
	healthyAfter = 30 * time.Second
	stopTimeout  = 30 * time.Second
)

// run keeps the child running until ctx ends, then stops it.
func (c *child) run(ctx context.Context) {
	backoff := minBackoff
	for {
		cmd, err := c.start()
		if err != nil {
			c.log.Error("child failed to start", "child", c.name, "err", err, "retry_in", backoff)
		} else {
			c.mu.Lock()
			c.cmd, c.pid = cmd, cmd.Process.Pid
			c.mu.Unlock()
			c.log.Info("child started", "child", c.name, "pid", cmd.Process.Pid)
			began := time.Now()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-ctx.Done():
				c.stop(cmd, done)
				return
			}
			if ctx.Err() != nil {
				return
			}
			if time.Since(began) > healthyAfter {
				backoff = minBackoff
			}
			c.log.Error("child exited; restarting", "child", c.name, "pid", cmd.Process.Pid, "err", exitString(err), "restart_in", backoff)
			if c.onExit != nil {
				c.onExit(err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff *= 2; backoff > maxBackoff {
			backoff = maxBackoff
		}
	}
}

// stop asks the process to finish (SIGTERM) and kills it after stopTimeout.
func (c *child) stop(cmd *exec.Cmd, done <-chan error) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		c.log.Info("child stopped", "child", c.name, "pid", cmd.Process.Pid, "exit", exitString(err))
	case <-time.After(stopTimeout):
		c.log.Error("child did not stop in time; killing it", "child", c.name, "pid", cmd.Process.Pid)
		cmd.Process.Kill()
		<-done
	}
}

func exitString(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// childEnv is the environment of a child: the agent's plus extra.
func childEnv(extra ...string) []string {
	return append(os.Environ(), extra...)
}

func itoa(i int) string { return fmt.Sprint(i) }
