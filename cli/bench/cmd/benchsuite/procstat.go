package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// tree returns pid and all its descendants, from /proc.
func tree(pid int) []int {
	children := map[int][]int{}
	ents, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, e := range ents {
		f, err := statFields(e)
		if err != nil || len(f) < 2 {
			continue
		}
		p, _ := strconv.Atoi(filepath.Base(filepath.Dir(e)))
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], p)
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// statFields returns the fields of /proc/<pid>/stat after the command name:
// [0] is state, [1] ppid, [11] utime, [12] stime.
func statFields(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, fmt.Errorf("%s: no command name", path)
	}
	return strings.Fields(string(b[i+1:])), nil
}

// cpuSeconds sums utime+stime of pid and its descendants. Processes that
// exited in between are not counted: the brokers' do not during a run.
func cpuSeconds(pid int) float64 {
	var ticks int64
	for _, p := range tree(pid) {
		f, err := statFields(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil || len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + s
	}
	return float64(ticks) / clockTicks
}

// peakRSS sums VmHWM (peak resident set) of pid and its descendants, bytes.
func peakRSS(pid int) int64 {
	var kb int64
	for _, p := range tree(pid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			continue
		}
		kb += procField(string(b), "VmHWM:")
	}
	return kb * 1024
}

// writeBytes sums write_bytes of /proc/<pid>/io (bytes the processes caused
// to be sent to the block layer, counted when pages are dirtied) over pid
// and its descendants.
func writeBytes(pid int) int64 {
	var n int64
	for _, p := range tree(pid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", p))
		if err != nil {
			continue
		}
		n += procField(string(b), "write_bytes:")
	}
	return n
}

// currentRSS sums VmRSS of pid and its descendants, bytes.
func currentRSS(pid int) int64 {
	var kb int64
	for _, p := range tree(pid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			continue
		}
		kb += procField(string(b), "VmRSS:")
	}
	return kb * 1024
}

// openFDs counts the open file descriptors of pid and its descendants.
func openFDs(pid int) int {
	var n int
	for _, p := range tree(pid) {
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p))
		if err == nil {
			n += len(ents)
		}
	}
	return n
}

// procField reads the integer after key in a /proc "key: value [kB]" file;
// 0 when the key is missing.
func procField(text, key string) int64 {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
