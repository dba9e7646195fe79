package controller

import (
	"context"
	"io"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// raftLogLevel is the least severe Raft message passed on. Raft is chatty at
// Info (every election, every snapshot); Warn keeps what an operator acts on.
const raftLogLevel = hclog.Warn

// newRaftLogger returns an hclog.Logger for Raft and its stores that forwards
// messages at raftLogLevel and above to l. hclog's own output is discarded.
func newRaftLogger(l *slog.Logger) hclog.Logger {
	il := hclog.NewInterceptLogger(&hclog.LoggerOptions{
		Name:   "raft",
		Level:  raftLogLevel,
		Output: io.Discard,
	})
	il.RegisterSink(slogSink{l: l})
	return il
}

// slogSink passes hclog records to slog. Called from any Raft goroutine.
type slogSink struct{ l *slog.Logger }

var _ hclog.SinkAdapter = slogSink{}

func (s slogSink) Accept(name string, level hclog.Level, msg string, args ...any) {
	if level < raftLogLevel {
		return
	}
	lv := slog.LevelError
	switch level {
	case hclog.Trace, hclog.Debug:
		lv = slog.LevelDebug
	case hclog.Info:
		lv = slog.LevelInfo
	case hclog.Warn:
		lv = slog.LevelWarn
	}
	s.l.Log(context.Background(), lv, msg, append(args, "component", name)...)
}
