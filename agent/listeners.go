package agent

import (
	"context"
	"fmt"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePortListener opens a TCP listener with SO_REUSEPORT, so that every
// shard holds its own socket on the same port and the kernel spreads new
// connections over them. Port 0 picks a free port; the others then bind the
// port the first one got.
func reusePortListener(addr string) (*net.TCPListener, error) {
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln.(*net.TCPListener), nil
}

// listenerFile duplicates the listener's descriptor for a child process and
// closes the agent's own listener: the agent must not hold a socket in the
// SO_REUSEPORT group, or the kernel would hand it connections nobody accepts.
func listenerFile(ln *net.TCPListener) (*os.File, error) {
	f, err := ln.File()
	ln.Close()
	return f, err
}
