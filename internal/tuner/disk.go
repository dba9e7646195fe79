package tuner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The data disk's tuners: IO scheduler and nomerges of the block device that
// holds the data directory (the whole disk when it is a partition).

// dataQueue returns the queue directory (under Root) of the data directory's
// disk and the disk's name ("sda", "nvme0n1").
func dataQueue(h *Host) (queue, disk string, err error) {
	// The data directory may not exist yet: use its nearest parent.
	major, minor, err := h.Dev(existingParent(h.DataDir))
	if err != nil {
		return "", "", err
	}
	if major == 0 {
		return "", "", fmt.Errorf("%w: data directory %s is not on a block device (tmpfs, overlay, network filesystem)", ErrUnsupported, h.DataDir)
	}
	dev, err := filepath.EvalSymlinks(h.path(fmt.Sprintf("/sys/dev/block/%d:%d", major, minor)))
	if err != nil {
		return "", "", fmt.Errorf("%w: block device %d:%d of %s: %w", ErrUnsupported, major, minor, h.DataDir, err)
	}
	if _, err := os.Stat(filepath.Join(dev, "partition")); err == nil {
		dev = filepath.Dir(dev)
	}
	queue = filepath.Join(dev, "queue")
	if _, err := os.Stat(queue); err != nil {
		return "", "", fmt.Errorf("%w: %s has no IO queue (device-mapper or virtual device)", ErrUnsupported, filepath.Base(dev))
	}
	return queue, filepath.Base(dev), nil
}

func diskHint(h *Host, file, value string) string {
	disk := "DISK"
	if _, d, err := dataQueue(h); err == nil {
		disk = d
	}
	return fmt.Sprintf("as root on the host: echo %s > /sys/block/%s/queue/%s; keep it with a udev rule: "+
		`ACTION=="add|change", KERNEL=="%s", ATTR{queue/%s}="%s"`, value, disk, file, disk, file, value)
}

// schedulerWant is the scheduler Ailurus wants among those offered: none
// (multi-queue kernels) or noop (legacy), "" when neither.
func schedulerWant(avail []string) string {
	for _, s := range []string{"none", "noop"} {
		if slices.Contains(avail, s) {
			return s
		}
	}
	return ""
}

func diskScheduler() *Tuner {
	read := func(h *Host) (State, string, error) {
		st := State{Required: "none"}
		q, _, err := dataQueue(h)
		if err != nil {
			return st, "", err
		}
		v, err := h.readAbs(filepath.Join(q, "scheduler"))
		if errors.Is(err, fs.ErrNotExist) {
			return st, "", fmt.Errorf("%w: no IO scheduler for the data disk", ErrUnsupported)
		} else if err != nil {
			return st, "", err
		}
		cur, avail := bracketed(v)
		want := schedulerWant(avail)
		if want == "" {
			return State{Current: cur, Required: "none"}, "", fmt.Errorf("%w: the data disk offers neither none nor noop (%s)", ErrUnsupported, v)
		}
		return State{Current: cur, Required: want, OK: cur == want}, filepath.Join(q, "scheduler"), nil
	}
	return &Tuner{
		Name: "disk-scheduler", Aliases: []string{"disk_scheduler"}, Condition: "Data disk IO scheduler",
		read: func(h *Host) (State, error) { st, _, err := read(h); return st, err },
		apply: func(h *Host) error {
			st, file, err := read(h)
			if err != nil {
				return err
			}
			return h.writeAbs(file, st.Required)
		},
		hint: func(h *Host) string { return diskHint(h, "scheduler", "none") },
	}
}

func diskNomerges() *Tuner {
	const want = "2" // never merge IO requests: Ailurus sizes its own
	file := func(h *Host) (string, error) {
		q, _, err := dataQueue(h)
		if err != nil {
			return "", err
		}
		return filepath.Join(q, "nomerges"), nil
	}
	return &Tuner{
		Name: "disk-nomerges", Aliases: []string{"disk_nomerges"}, Condition: "Data disk nomerges",
		read: func(h *Host) (State, error) {
			f, err := file(h)
			if err != nil {
				return State{Required: want}, err
			}
			cur, err := h.readAbs(f)
			if errors.Is(err, fs.ErrNotExist) {
				return State{Required: want}, fmt.Errorf("%w: no nomerges for the data disk", ErrUnsupported)
			}
			return State{Current: strings.TrimSpace(cur), Required: want, OK: cur == want}, err
		},
		apply: func(h *Host) error {
			f, err := file(h)
			if err != nil {
				return err
			}
			return h.writeAbs(f, want)
		},
		hint: func(h *Host) string { return diskHint(h, "nomerges", want) },
	}
}
