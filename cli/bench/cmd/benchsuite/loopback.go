package main

import (
	"fmt"
	"io"
	"net"
	"time"
)

// loopbackGBps is the ceiling of any C1 read on this machine at this
// moment: n bytes sent over a 127.0.0.1 TCP connection from a goroutine
// writing 1 MiB buffers to one reading them, in 10^9 bytes per second. It
// shares the CPUs with the brokers, as C1's client does.
func loopbackGBps(n int64) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	sent := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			sent <- err
			return
		}
		defer c.Close()
		buf := make([]byte, 1<<20)
		for left := n; left > 0; left -= int64(len(buf)) {
			if _, err := c.Write(buf[:min(int64(len(buf)), left)]); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return 0, err
	}
	defer c.Close()
	start := time.Now()
	got, err := io.Copy(io.Discard, c)
	secs := time.Since(start).Seconds()
	if err != nil {
		return 0, err
	}
	if err := <-sent; err != nil {
		return 0, err
	}
	if got != n {
		return 0, fmt.Errorf("loopback: read %d of %d bytes", got, n)
	}
	return float64(n) / secs / 1e9, nil
}
