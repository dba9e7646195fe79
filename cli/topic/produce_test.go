package topic

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns the controller and terminal ends of a new pseudo-terminal.
func openPTY(t *testing.T) (ctl, term *os.File) {
	t.Helper()
	ctl, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ctl.Close() })
	if err := unix.IoctlSetPointerInt(int(ctl.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ctl.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	term, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pts: %v", err)
	}
	t.Cleanup(func() { term.Close() })
	return ctl, term
}

// Progress goes to a terminal, and never to a pipe or file.
func TestProduceProgressOnlyOnTerminal(t *testing.T) {
	var acked atomic.Int64
	acked.Store(1234)

	ctl, term := openPTY(t)
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 4096)
		var sb strings.Builder
		for !strings.Contains(sb.String(), "produced 1234 records") {
			n, err := ctl.Read(buf)
			sb.Write(buf[:n])
			if err != nil {
				break
			}
		}
		got <- sb.String()
	}()
	stop := startProgress(term, &acked)
	select {
	case s := <-got:
		if !strings.Contains(s, "\r") {
			t.Errorf("progress does not rewrite its line: %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no progress on a terminal within 5s")
	}
	stop()

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stop = startProgress(w, &acked)
	time.Sleep(400 * time.Millisecond) // longer than one progress tick
	stop()
	w.Close()
	if b, _ := io.ReadAll(r); len(b) != 0 {
		t.Errorf("progress written to a pipe: %q", b)
	}
}

// A last line without its newline is still a record.
func TestFinalNewline(t *testing.T) {
	for in, want := range map[string]string{"a\nb": "a\nb\n", "a\n": "a\n", "": ""} {
		b, _ := io.ReadAll(withFinalNewline(strings.NewReader(in), `%v\n`))
		if string(b) != want {
			t.Errorf("%q: got %q, want %q", in, b, want)
		}
	}
	b, _ := io.ReadAll(withFinalNewline(strings.NewReader("a"), `%v{4}`))
	if string(b) != "a" {
		t.Errorf("format without newline changed input: %q", b)
	}
}
