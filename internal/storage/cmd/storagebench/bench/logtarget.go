package bench

import (
	"io"
	"log/slog"
	"path/filepath"
	"strconv"

	"github.com/ailurus/ailurus/internal/storage"
)

// logTarget appends through a partition log in its default, durable mode.
type logTarget struct{ l *storage.Log }

func (t logTarget) appendBatch(b []byte) error {
	_, err := t.l.Append(1, b)
	return err
}

func (t logTarget) close() error { return t.l.Close() }

// openLogs opens one log per partition, all sharing one Flusher as the logs
// of a process do.
func (r *Run) openLogs(s Setup) error {
	opts := storage.DefaultOptions()
	opts.Direct = r.sc.Engine == LogDirect
	fl := storage.NewFlusher(s.FlusherParallel)
	env := storage.Env{Flusher: fl, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var logs []*storage.Log
	for p := range r.sc.Partitions {
		l, err := storage.Open(filepath.Join(r.dir, strconv.Itoa(p)), opts, env)
		if err != nil {
			return err
		}
		logs = append(logs, l)
		r.targets = append(r.targets, logTarget{l})
	}
	r.stats = func() (appends, bytes, syncs, peak int64) {
		for _, l := range logs {
			st := l.Stats()
			appends += st.Batches
			bytes += st.Bytes
			syncs += st.Syncs
		}
		return appends, bytes, syncs, fl.PeakParallel()
	}
	return nil
}
