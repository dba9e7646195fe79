package tuner

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// The /sys tuners: transparent hugepages, clocksource, CPU governor.

// bracketed returns the selected entry of a /sys choice list
// ("always [madvise] never" -> "madvise") and every entry.
func bracketed(s string) (selected string, all []string) {
	for _, f := range strings.Fields(s) {
		if strings.HasPrefix(f, "[") && strings.HasSuffix(f, "]") {
			f = strings.Trim(f, "[]")
			selected = f
		}
		all = append(all, f)
	}
	return selected, all
}

func sysHint(path, value string) string {
	return fmt.Sprintf("as root on the host (a container's /sys is read-only): echo %s > %s; "+
		"keep it across reboots with a kernel parameter, a udev rule or a tmpfiles.d entry", value, path)
}

func readSys(h *Host, p string) (string, error) {
	v, err := h.read(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: no %s", ErrUnsupported, p)
	}
	return v, err
}

const thpFile = "/sys/kernel/mm/transparent_hugepage/enabled"

func transparentHugepages() *Tuner {
	const want = "always"
	return &Tuner{
		Name: "transparent-hugepages", Aliases: []string{"transparent_hugepages"}, Condition: "Transparent hugepages",
		read: func(h *Host) (State, error) {
			v, err := readSys(h, thpFile)
			if err != nil {
				return State{Required: want}, err
			}
			cur, _ := bracketed(v)
			return State{Current: cur, Required: want, OK: cur == want}, nil
		},
		apply: func(h *Host) error { return h.write(thpFile, want) },
		hint:  func(*Host) string { return sysHint(thpFile, want) },
	}
}

const (
	clocksourceCurrent   = "/sys/devices/system/clocksource/clocksource0/current_clocksource"
	clocksourceAvailable = "/sys/devices/system/clocksource/clocksource0/available_clocksource"
)

func clocksource() *Tuner {
	const want = "tsc" // read through the vDSO without a system call
	return &Tuner{
		Name: "clocksource", Condition: "Clock source",
		read: func(h *Host) (State, error) {
			cur, err := readSys(h, clocksourceCurrent)
			if err != nil {
				return State{Required: want}, err
			}
			st := State{Current: cur, Required: want, OK: cur == want}
			if st.OK {
				return st, nil
			}
			avail, _ := readSys(h, clocksourceAvailable)
			if !slices.Contains(strings.Fields(avail), want) {
				return st, fmt.Errorf("%w: clocksource %s not offered by the kernel (available: %s)", ErrUnsupported, want, avail)
			}
			return st, nil
		},
		apply: func(h *Host) error { return h.write(clocksourceCurrent, want) },
		hint:  func(*Host) string { return sysHint(clocksourceCurrent, want) + " (kernel parameter clocksource=tsc)" },
	}
}

const cpuGlob = "/sys/devices/system/cpu/cpu[0-9]*/cpufreq"

// cpufreqDirs lists the cpufreq directories of every CPU (none in most VMs).
func cpufreqDirs(h *Host) []string {
	dirs, _ := filepath.Glob(h.path(cpuGlob))
	return dirs
}

func cpuGovernor() *Tuner {
	const want = "performance"
	return &Tuner{
		Name: "cpu-governor", Aliases: []string{"cpu"}, Condition: "CPU frequency governor",
		read: func(h *Host) (State, error) {
			dirs := cpufreqDirs(h)
			if len(dirs) == 0 {
				return State{Required: want}, fmt.Errorf("%w: no cpufreq (virtual machine?)", ErrUnsupported)
			}
			var govs []string
			for _, d := range dirs {
				g, err := h.readAbs(filepath.Join(d, "scaling_governor"))
				if err != nil {
					return State{Required: want}, err
				}
				if !slices.Contains(govs, g) {
					govs = append(govs, g)
				}
			}
			slices.Sort(govs)
			cur := strings.Join(govs, ",")
			return State{Current: cur, Required: want, OK: cur == want}, nil
		},
		apply: func(h *Host) error {
			for _, d := range cpufreqDirs(h) {
				avail, _ := h.readAbs(filepath.Join(d, "scaling_available_governors"))
				if avail != "" && !slices.Contains(strings.Fields(avail), want) {
					return fmt.Errorf("%s: governor %s not available (%s)", d, want, avail)
				}
				if err := h.writeAbs(filepath.Join(d, "scaling_governor"), want); err != nil {
					return err
				}
			}
			return nil
		},
		hint: func(*Host) string {
			return "as root on the host: cpupower frequency-set -g performance (or echo performance > /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor)"
		},
	}
}
