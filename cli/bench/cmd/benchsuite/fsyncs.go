package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Records per fsync, from the node's own counters: the admin API's /metrics
// sums ailurus_kafka_records_in_total and ailurus_storage_fsyncs_total
// over the shards. Shards push their counters every 5 s, so after a run
// the suite waits for the push that follows it.

// fsyncCounters are a node's records written and fdatasyncs issued.
type fsyncCounters struct{ records, fsyncs float64 }

// scrapeFsyncs reads the counters from the admin API at base.
func scrapeFsyncs(ctx context.Context, base string) (fsyncCounters, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/metrics", nil)
	if err != nil {
		return fsyncCounters{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fsyncCounters{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fsyncCounters{}, fmt.Errorf("GET %s/metrics: %s", base, resp.Status)
	}
	var c fsyncCounters
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var into *float64
		switch name, _, _ := strings.Cut(line, " "); {
		case metricIs(name, "ailurus_kafka_records_in_total"):
			into = &c.records
		case metricIs(name, "ailurus_storage_fsyncs_total"):
			into = &c.fsyncs
		default:
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
				*into += v
			}
		}
	}
	return c, sc.Err()
}

// metricIs says whether series (a name and its labels) is of metric name.
func metricIs(series, name string) bool {
	rest, ok := strings.CutPrefix(series, name)
	return ok && (rest == "" || rest[0] == '{')
}

// fsyncsAfterRun waits for the shards' first push after a run (the records
// counter moves), at most a push interval and a half, and returns the
// counters then.
func fsyncsAfterRun(ctx context.Context, base string) (fsyncCounters, error) {
	c0, err := scrapeFsyncs(ctx, base)
	if err != nil {
		return c0, err
	}
	deadline := time.Now().Add(7500 * time.Millisecond)
	for time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		c, err := scrapeFsyncs(ctx, base)
		if err != nil {
			return c, err
		}
		if c.records != c0.records {
			return c, nil
		}
	}
	return c0, nil
}

// perFsync is records per fsync between two readings; false if no fsync.
func (c fsyncCounters) perFsync(before fsyncCounters) (float64, bool) {
	df := c.fsyncs - before.fsyncs
	if df <= 0 {
		return 0, false
	}
	return (c.records - before.records) / df, true
}
