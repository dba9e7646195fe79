// Package logging builds the slog.Logger of every Ailurus process: under
// systemd, records go to the journal with their attributes as structured
// fields (`journalctl -u ailurus SHARD=1 TOPIC=orders`); elsewhere, to stderr
// as text. See New.
package logging

import (
	"io"
	"log/slog"
	"os"

	"github.com/coreos/go-systemd/v22/journal"
)

// Options say where and what to log.
type Options struct {
	// Level is the lowest level logged.
	Level slog.Leveler
	// Stderr receives text records when the journal is not used, and a
	// record the journal refused; nil means os.Stderr.
	Stderr io.Writer
	// Identifier is SYSLOG_IDENTIFIER in the journal (`journalctl -t`);
	// "" means "ailurus".
	Identifier string
}

// New returns a logger for this process: to the journal when it runs under
// systemd (journal socket reachable and stderr connected to the journal, so
// that running `ailurus start` in a terminal on a systemd host still logs to
// the terminal), to stderr as text otherwise.
func New(opts Options) *slog.Logger {
	if underJournal() {
		return slog.New(NewJournalHandler(journal.Send, opts))
	}
	w := opts.Stderr
	if w == nil {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: opts.Level}))
}

func underJournal() bool {
	if !journal.Enabled() {
		return false
	}
	ok, err := journal.StderrIsJournalStream()
	return err == nil && ok
}
