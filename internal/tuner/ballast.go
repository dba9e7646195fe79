package tuner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// BallastName is the ballast file in the data directory: space reserved up
// front that an operator deletes to get a node with a full disk going again.
const BallastName = "ballast"

func ballastFile() *Tuner {
	return &Tuner{
		Name: "ballast-file", Aliases: []string{"ballast_file"}, Condition: "Ballast file",
		read: func(h *Host) (State, error) {
			p := filepath.Join(h.DataDir, BallastName)
			st := State{Required: fmt.Sprintf("%s, %s", p, formatBytes(h.BallastSize))}
			fi, err := os.Stat(p)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				st.Current = "missing"
				return st, nil
			case err != nil:
				return st, err
			}
			st.Current = formatBytes(fi.Size())
			st.OK = fi.Size() >= h.BallastSize
			return st, nil
		},
		apply: func(h *Host) error { return writeBallast(h.DataDir, h.BallastSize) },
		hint: func(h *Host) string {
			return fmt.Sprintf("as root or the ailurus user: fallocate -l %d %s", h.BallastSize, filepath.Join(h.DataDir, BallastName))
		},
	}
}

// writeBallast allocates size bytes of real blocks (not a sparse file, which
// would free nothing when deleted) and gives the file to the data
// directory's owner.
func writeBallast(dataDir string, size int64) error {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return cannotWrite(dataDir, err)
	}
	p := filepath.Join(dataDir, BallastName)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return cannotWrite(p, err)
	}
	err = unix.Fallocate(int(f.Fd()), 0, 0, size)
	if errors.Is(err, syscall.EOPNOTSUPP) { // e.g. some network filesystems
		err = writeZeros(f, size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("ballast %s: %w", p, err)
	}
	var st unix.Stat_t
	if unix.Stat(dataDir, &st) == nil && os.Geteuid() == 0 {
		_ = os.Chown(p, int(st.Uid), int(st.Gid))
	}
	return nil
}

func writeZeros(f *os.File, size int64) error {
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(buf)) {
		n := min(int64(len(buf)), size-off)
		if _, err := f.WriteAt(buf[:n], off); err != nil {
			return err
		}
	}
	return nil
}

// formatBytes prints a size with a binary unit ("1.0 GiB").
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
