// Command storagebench measures the partition log against the raw disk: the
// same appends through storage.Log (buffered and O_DIRECT) and through a
// plain file with WriteAt + fdatasync, in interleaved rounds, and prints one
// table of medians with the targets checked. `make bench-storage`
// runs it. The exit status is 0 even when a target is missed: it reports, it
// does not gate.
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime/pprof"
	"time"

	"github.com/ailurus/ailurus/internal/storage/cmd/storagebench/bench"
)

func main() {
	dir := flag.String("dir", os.TempDir(), "directory for the data files; put it on the disk under test")
	dur := flag.Duration("duration", 2*time.Second, "length of each scenario's run")
	rounds := flag.Int("rounds", 3, "interleaved rounds; every scenario runs once per round")
	format := flag.String("format", "table", "output: table or json")
	only := flag.String("only", "", "run only scenarios whose '<shape> <engine>' matches this regexp")
	par := flag.Int("flusher-parallel", bench.DefaultFlusherParallel, "fdatasyncs the logs' shared Flusher issues at once")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()

	if err := run(*dir, *dur, *rounds, *format, *only, *par, *cpuprofile); err != nil {
		fmt.Fprintln(os.Stderr, "storagebench:", err)
		os.Exit(1)
	}
}

func run(dir string, dur time.Duration, rounds int, format, only string, par int, cpuprofile string) error {
	if format != "table" && format != "json" {
		return fmt.Errorf("--format %q: want table or json", format)
	}
	if rounds < 1 || dur <= 0 {
		return fmt.Errorf("--rounds %d --duration %s: both must be positive", rounds, dur)
	}
	var keep func(bench.Scenario) bool
	if only != "" {
		re, err := regexp.Compile(only)
		if err != nil {
			return fmt.Errorf("--only: %w", err)
		}
		keep = func(sc bench.Scenario) bool { return re.MatchString(sc.String()) }
	}
	scenarios := bench.Scenarios(keep)
	if len(scenarios) == 0 {
		return fmt.Errorf("--only %q matches no scenario", only)
	}
	fsDesc, dev, err := bench.FSInfo(dir)
	if err != nil {
		return err
	}
	if wd, err := os.Getwd(); err == nil {
		if wdDesc, wdDev, err := bench.FSInfo(wd); err == nil && wdDev != dev {
			fmt.Fprintf(os.Stderr, "storagebench: warning: %s (%s) is not on the working directory's device (%s)\n", dir, fsDesc, wdDesc)
		}
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(os.Stderr, "storagebench: %d scenarios x %d rounds x %s in %s (%s)\n", len(scenarios), rounds, dur, dir, fsDesc)
	suite := bench.Suite{
		Setup:     bench.Setup{Dir: dir, FlusherParallel: par},
		Scenarios: scenarios,
		Rounds:    rounds,
		Duration:  dur,
		Progress:  os.Stderr,
	}
	rep, err := suite.Run()
	if err != nil {
		return err
	}
	rep.Filesystem = fsDesc
	if format == "json" {
		return rep.WriteJSON(os.Stdout)
	}
	return rep.WriteTable(os.Stdout)
}
