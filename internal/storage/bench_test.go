package storage_test

import (
	"testing"

	"github.com/ailurus/ailurus/internal/storage/cmd/storagebench/bench"
)

// BenchmarkStorageAppend appends batches of 1 KiB records in the durable
// mode through the log, buffered and O_DIRECT, each next to the raw disk
// written the same way (os.File WriteAt + fdatasync per append, into a
// preallocated file): 16 KiB and 1 MiB batches, 1 and 8 appenders, and
// 16 KiB batches from 12 appenders on one log or one each on 12 logs
// sharing a Flusher. b.N is the number of appends over all appenders.
// Figures only, never a verdict; `make bench-storage` runs the same
// scenarios in interleaved rounds and checks the targets. Run with
//
//	go test -run '^$' -bench StorageAppend -benchtime 2000x ./internal/storage
func BenchmarkStorageAppend(b *testing.B) {
	for _, sc := range bench.Scenarios(nil) {
		b.Run(sc.Name+"/"+sc.Engine.Short(), func(b *testing.B) {
			run, err := bench.Prepare(sc, bench.Setup{Dir: b.TempDir(), FlusherParallel: bench.DefaultFlusherParallel})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			res, err := run.Go(bench.Stop{N: int64(b.N)})
			b.StopTimer()
			if cerr := run.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				b.Fatal(err)
			}
			us := func(p float64) float64 { return float64(res.Percentile(p).Nanoseconds()) / 1e3 }
			b.ReportMetric(res.MBps(), "MB/s")
			b.ReportMetric(res.AppendsPerSec(), "appends/s")
			b.ReportMetric(res.BatchesPerSync(), "batches/fsync")
			b.ReportMetric(us(50), "p50-µs")
			b.ReportMetric(us(99), "p99-µs")
		})
	}
}
