package tests

import (
	"encoding/json"
	"os/exec"
	"testing"
)

// TestE2EBench runs `ailurus bench` against a node the way a user would and
// checks the JSON report: every record acknowledged and read back once.
func TestE2EBench(t *testing.T) {
	n := RunNode(t, NodeOptions{})
	out, err := exec.Command(binary, "bench", "--brokers", n.Kafka, "--topic", "bench-smoke",
		"--partitions", "3", "--records", "2000", "--producers", "2", "--consumers", "1",
		"--format", "json").Output()
	if err != nil {
		t.Fatalf("ailurus bench: %v\n%s", err, out)
	}
	var rep struct {
		Records       *int64   `json:"records"`
		RecordsPerSec *float64 `json:"records_per_sec"`
		MBPerSec      *float64 `json:"mb_per_sec"`
		Produce       *struct {
			Count *int64   `json:"count"`
			P50   *float64 `json:"p50_ms"`
			P99   *float64 `json:"p99_ms"`
			P999  *float64 `json:"p99_9_ms"`
			Max   *float64 `json:"max_ms"`
		} `json:"produce_latency"`
		EndToEnd *struct {
			Count *int64 `json:"count"`
		} `json:"end_to_end_latency"`
		Errors     *int64 `json:"errors"`
		Consumed   *int64 `json:"consumed"`
		Duplicates *int64 `json:"duplicates"`
		Missing    *int64 `json:"missing"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	if rep.Records == nil || rep.RecordsPerSec == nil || rep.MBPerSec == nil || rep.Produce == nil ||
		rep.Produce.P50 == nil || rep.Produce.P99 == nil || rep.Produce.P999 == nil || rep.Produce.Max == nil ||
		rep.EndToEnd == nil || rep.Errors == nil || rep.Consumed == nil || rep.Duplicates == nil || rep.Missing == nil {
		t.Fatalf("report lacks fields:\n%s", out)
	}
	if *rep.Records != 2000 || *rep.Produce.Count != 2000 || *rep.RecordsPerSec <= 0 || *rep.MBPerSec <= 0 {
		t.Errorf("want 2000 records at a non-zero rate:\n%s", out)
	}
	if *rep.Errors != 0 || *rep.Duplicates != 0 || *rep.Missing != 0 || *rep.Consumed != 2000 || *rep.EndToEnd.Count != 2000 {
		t.Errorf("want every record read back once, no errors:\n%s", out)
	}
}

// TestE2EBenchOpenLoop runs `ailurus bench --rate`: an open loop creates
// records on a schedule whatever the broker's latency, so the records
// counted after the warm-up are the rate times the measured time.
func TestE2EBenchOpenLoop(t *testing.T) {
	n := RunNode(t, NodeOptions{})
	out, err := exec.Command(binary, "bench", "--brokers", n.Kafka, "--topic", "bench-open",
		"--rate", "2000", "--duration", "2500ms", "--warmup", "500ms", "--format", "json").Output()
	if err != nil {
		t.Fatalf("ailurus bench: %v\n%s", err, out)
	}
	var rep struct {
		Records    int64   `json:"records"`
		TargetRate float64 `json:"target_rate"`
		Errors     int64   `json:"errors"`
		Produce    struct {
			Count int64 `json:"count"`
		} `json:"produce_latency"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	// Records due from 0.5 s to 2.5 s at 2,000/s: 4,000 (one either side
	// for where the deadline falls).
	if rep.Records < 3999 || rep.Records > 4001 || rep.Produce.Count != rep.Records {
		t.Errorf("want 4000 records measured (2000/s over 2 s), got %d (%d latencies):\n%s", rep.Records, rep.Produce.Count, out)
	}
	if rep.TargetRate != 2000 || rep.Errors != 0 {
		t.Errorf("want target rate 2000 and no errors:\n%s", out)
	}
}
