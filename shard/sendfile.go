package shard

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"

	"golang.org/x/sys/unix"

	"github.com/ailurus/ailurus/internal/storage"
)

// writeParts writes a parts frame: byte runs through w, file ranges with
// sendfile straight to c when c is a TCP connection and the file an OS file,
// else copied through w. A short file range is an error: the frame size is
// already on the wire, so the caller must close the connection.
func writeParts(w *bufio.Writer, c net.Conn, pf *partsFrame) error {
	tc, _ := c.(*net.TCPConn)
	for _, p := range pf.parts {
		if p.f == nil {
			if _, err := w.Write(p.b); err != nil {
				return err
			}
			continue
		}
		if osf, ok := p.f.(storage.OSFile); ok && tc != nil {
			if err := w.Flush(); err != nil {
				return err
			}
			if err := sendFile(tc, osf, p.off, p.n); err != nil {
				return err
			}
			continue
		}
		k, err := io.Copy(w, io.NewSectionReader(p.f, p.off, p.n))
		if err != nil {
			return err
		}
		if k != p.n {
			return fmt.Errorf("file range [%d, +%d): %w", p.off, p.n, io.ErrUnexpectedEOF)
		}
	}
	return nil
}

// sendFile sends n bytes of f from off to c with sendfile(2), waiting for
// the socket to drain on EAGAIN. The file's own offset is not used.
func sendFile(c *net.TCPConn, f storage.OSFile, off, n int64) error {
	dst, err := c.SyscallConn()
	if err != nil {
		return err
	}
	src, err := f.OS().SyscallConn()
	if err != nil {
		return err
	}
	var serr, werr error
	cerr := src.Control(func(infd uintptr) {
		werr = dst.Write(func(outfd uintptr) bool {
			for n > 0 {
				k, err := unix.Sendfile(int(outfd), int(infd), &off, int(min(n, 1<<30)))
				if k > 0 {
					n -= int64(k)
				}
				switch {
				case errors.Is(err, unix.EINTR):
				case errors.Is(err, unix.EAGAIN):
					return false // wait until writable
				case err != nil:
					serr = err
					return true
				case k == 0:
					serr = fmt.Errorf("sendfile at %d: %w", off, io.ErrUnexpectedEOF)
					return true
				}
			}
			return true
		})
	})
	return errors.Join(cerr, werr, serr)
}
