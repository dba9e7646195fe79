package controller

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestRaftLoggerForwardsWarnings(t *testing.T) {
	var buf bytes.Buffer
	l := newRaftLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l.Info("entering follower state", "term", 3)
	l.Debug("noise")
	l.Warn("heartbeat timeout reached", "last-leader-addr", "x")
	l.Named("snapshot").Error("failed to persist", "error", "disk full")
	out := buf.String()
	if strings.Contains(out, "follower") || strings.Contains(out, "noise") {
		t.Errorf("info/debug reached the logger:\n%s", out)
	}
	for _, want := range []string{"level=WARN msg=\"heartbeat timeout reached\" last-leader-addr=x", "level=ERROR msg=\"failed to persist\" error=\"disk full\" component=raft.snapshot"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
