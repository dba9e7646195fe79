package logging

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
)

type entry struct {
	msg    string
	pri    journal.Priority
	fields map[string]string
}

// recorder is a Sender that keeps what it was given.
type recorder struct{ got []entry }

func (r *recorder) send(msg string, pri journal.Priority, fields map[string]string) error {
	r.got = append(r.got, entry{msg, pri, fields})
	return nil
}

func newRecorded(level slog.Level) (*slog.Logger, *recorder) {
	r := &recorder{}
	return slog.New(NewJournalHandler(r.send, Options{Level: level})), r
}

func TestJournalStructuredFields(t *testing.T) {
	log, r := newRecorded(slog.LevelInfo)
	log = log.With("subsys", "shard")
	log.Info("partition recovered", "shard", 1, "topic", "orders", "partition", int32(7), "offset", int64(1234))
	if len(r.got) != 1 {
		t.Fatalf("got %d entries, want 1", len(r.got))
	}
	e := r.got[0]
	want := map[string]string{
		"SUBSYS": "shard", "SHARD": "1", "TOPIC": "orders", "PARTITION": "7",
		"OFFSET": "1234", "SYSLOG_IDENTIFIER": "ailurus",
	}
	for k, v := range want {
		if e.fields[k] != v {
			t.Errorf("field %s = %q, want %q (all: %v)", k, e.fields[k], v, e.fields)
		}
	}
	if e.pri != journal.PriInfo {
		t.Errorf("priority %d, want %d", e.pri, journal.PriInfo)
	}
	if wantMsg := "partition recovered subsys=shard shard=1 topic=orders partition=7 offset=1234"; e.msg != wantMsg {
		t.Errorf("message %q, want %q", e.msg, wantMsg)
	}
}

func TestJournalPriorityFromLevel(t *testing.T) {
	log, r := newRecorded(slog.LevelDebug)
	log.Debug("d")
	log.Info("i")
	log.Warn("w")
	log.Error("e")
	log.Log(t.Context(), slog.LevelError+4, "c")
	want := []journal.Priority{journal.PriDebug, journal.PriInfo, journal.PriWarning, journal.PriErr, journal.PriCrit}
	if len(r.got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(r.got), len(want))
	}
	for i, w := range want {
		if r.got[i].pri != w {
			t.Errorf("%q: priority %d, want %d", r.got[i].msg, r.got[i].pri, w)
		}
	}
}

func TestJournalLevelFilter(t *testing.T) {
	log, r := newRecorded(slog.LevelWarn)
	log.Info("dropped")
	log.Warn("kept")
	if len(r.got) != 1 || r.got[0].msg != "kept" {
		t.Fatalf("got %+v, want only the warning", r.got)
	}
}

func TestJournalGroupsAndNames(t *testing.T) {
	log, r := newRecorded(slog.LevelInfo)
	log.WithGroup("raft").With("term", 3).Info("elected",
		slog.Group("peer", "node-id", 2, "addr", "10.0.0.2:33145"),
		"message", "clashes with MESSAGE",
		"err", errors.New("boom"),
		"took", 1500*time.Millisecond,
		"when", time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC),
		"9lives", true,
		slog.Group("empty"),
	)
	f := r.got[0].fields
	want := map[string]string{
		"RAFT_TERM":         "3",
		"RAFT_PEER_NODE_ID": "2",
		"RAFT_PEER_ADDR":    "10.0.0.2:33145",
		"RAFT_MESSAGE":      "clashes with MESSAGE",
		"RAFT_ERR":          "boom",
		"RAFT_TOOK":         "1.5s",
		"RAFT_WHEN":         "2026-11-25T13:00:00Z",
		"RAFT_9LIVES":       "true",
	}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("field %s = %q, want %q (all: %v)", k, f[k], v, f)
		}
	}
	if len(f) != len(want)+1 { // + SYSLOG_IDENTIFIER
		t.Errorf("fields %v: want exactly %d", f, len(want)+1)
	}
	if !strings.Contains(r.got[0].msg, `raft.peer.node-id=2`) || !strings.Contains(r.got[0].msg, `raft.message="clashes with MESSAGE"`) {
		t.Errorf("message text %q lacks grouped keys or quoting", r.got[0].msg)
	}
}

func TestFieldName(t *testing.T) {
	for in, want := range map[string]string{
		"subsys":    "SUBSYS",
		"node-id":   "NODE_ID",
		"a.b":       "A_B",
		"_private":  "XPRIVATE",
		"9lives":    "X9LIVES",
		"":          "X_",
		"ünïcode":   "XN_CODE",
		"message":   "MESSAGE", // reserved names are handled by appendAttr
		"Partition": "PARTITION",
	} {
		if got := FieldName(in); got != want {
			t.Errorf("FieldName(%q) = %q, want %q", in, FieldName(in), want)
		}
	}
}

func TestReservedFieldsArePrefixed(t *testing.T) {
	log, r := newRecorded(slog.LevelInfo)
	log.Info("x", "priority", "high", "message", "m")
	f := r.got[0].fields
	if f["ATTR_PRIORITY"] != "high" || f["ATTR_MESSAGE"] != "m" {
		t.Fatalf("reserved attrs not prefixed: %v", f)
	}
	if _, ok := f["PRIORITY"]; ok {
		t.Fatalf("PRIORITY must come from the level, not an attribute: %v", f)
	}
}

func TestWithAttrsDoesNotLeakBetweenLoggers(t *testing.T) {
	log, r := newRecorded(slog.LevelInfo)
	a := log.With("shard", 0)
	b := log.With("shard", 1)
	a.Info("a")
	b.Info("b")
	if r.got[0].fields["SHARD"] != "0" || r.got[1].fields["SHARD"] != "1" {
		t.Fatalf("shard fields %q %q", r.got[0].fields["SHARD"], r.got[1].fields["SHARD"])
	}
}

func TestNewFallsBackToStderrText(t *testing.T) {
	// No journal on this machine (and stderr is not a journal stream in tests).
	t.Setenv("JOURNAL_STREAM", "")
	var buf bytes.Buffer
	log := New(Options{Level: slog.LevelInfo, Stderr: &buf})
	log.Info("ailurus starting", "version", "v1")
	if !strings.Contains(buf.String(), "msg=\"ailurus starting\" version=v1") {
		t.Fatalf("stderr text %q", buf.String())
	}
}

func TestJournalFailureFallsBackToStderr(t *testing.T) {
	var buf bytes.Buffer
	failing := func(string, journal.Priority, map[string]string) error { return errors.New("journald gone") }
	log := slog.New(NewJournalHandler(failing, Options{Stderr: &buf}))
	log.Warn("disk almost full", "free_bytes", 1024)
	if got, want := buf.String(), "<4>disk almost full free_bytes=1024\n"; got != want {
		t.Fatalf("fallback wrote %q, want %q", got, want)
	}
}
