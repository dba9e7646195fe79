package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coreos/go-systemd/v22/journal"
)

// Sender writes one journal entry; journal.Send in production, a recorder in
// tests. It is called from the logging goroutine and may block briefly.
type Sender func(message string, priority journal.Priority, fields map[string]string) error

// JournalHandler is a slog.Handler that sends each record as one journal
// entry. MESSAGE is the record's message followed by its attributes as
// key=value text (what `journalctl -u ailurus` shows); every attribute is
// also a field of its own, its key upper-cased and joined to its groups with
// "_" (subsys -> SUBSYS, shard -> SHARD, topic -> TOPIC, partition ->
// PARTITION). PRIORITY comes from the level (Priority). Safe for concurrent
// use, as slog requires; it holds no mutable state.
type JournalHandler struct {
	send Sender
	// fallback receives the record as text when send fails (journald down,
	// socket buffer full): under systemd stderr is the journal's stream, so
	// the line still lands in `journalctl -u ailurus`, without fields.
	fallback io.Writer
	level    slog.Leveler
	ident    string
	// attrs are those of WithAttrs, already resolved and prefixed.
	attrs []field
	// prefix is the groups of WithGroup, upper-cased and "_"-terminated;
	// textPrefix the same groups as written, "."-terminated, for MESSAGE.
	prefix, textPrefix string
}

type field struct {
	key   string // journal field name
	text  string // key for MESSAGE text ("group.key")
	value string
}

var _ slog.Handler = (*JournalHandler)(nil)

// NewJournalHandler returns a handler that sends through send.
func NewJournalHandler(send Sender, opts Options) *JournalHandler {
	ident := opts.Identifier
	if ident == "" {
		ident = "ailurus"
	}
	level := opts.Level
	if level == nil {
		level = slog.LevelInfo
	}
	fallback := opts.Stderr
	if fallback == nil {
		fallback = os.Stderr
	}
	return &JournalHandler{send: send, fallback: fallback, level: level, ident: ident}
}

// Enabled implements slog.Handler.
func (h *JournalHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

// Handle implements slog.Handler.
func (h *JournalHandler) Handle(_ context.Context, r slog.Record) error {
	fields := make([]field, 0, len(h.attrs)+r.NumAttrs())
	fields = append(fields, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		fields = appendAttr(fields, h.prefix, h.textPrefix, a)
		return true
	})
	vars := make(map[string]string, len(fields)+2)
	var msg strings.Builder
	msg.WriteString(r.Message)
	for _, f := range fields {
		vars[f.key] = f.value
		msg.WriteByte(' ')
		msg.WriteString(f.text)
		msg.WriteByte('=')
		msg.WriteString(quoteIfNeeded(f.value))
	}
	vars["SYSLOG_IDENTIFIER"] = h.ident
	if err := h.send(msg.String(), Priority(r.Level), vars); err != nil {
		// <N> is sd-daemon's priority prefix, understood on a journal stream.
		_, ferr := fmt.Fprintf(h.fallback, "<%d>%s\n", Priority(r.Level), msg.String())
		if ferr != nil {
			return fmt.Errorf("journal: %w; stderr: %w", err, ferr)
		}
	}
	return nil
}

// WithAttrs implements slog.Handler.
func (h *JournalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	h2 := *h
	h2.attrs = append([]field(nil), h.attrs...)
	for _, a := range as {
		h2.attrs = appendAttr(h2.attrs, h.prefix, h.textPrefix, a)
	}
	return &h2
}

// WithGroup implements slog.Handler.
func (h *JournalHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix = h.prefix + sanitize(name) + "_"
	h2.textPrefix = h.textPrefix + name + "."
	return &h2
}

// Priority maps a slog level to a syslog priority: debug 7, info 6, warn 4,
// error 3, and anything above error (slog.LevelError+4 and up) critical 2.
func Priority(l slog.Level) journal.Priority {
	switch {
	case l < slog.LevelInfo:
		return journal.PriDebug
	case l < slog.LevelWarn:
		return journal.PriInfo
	case l < slog.LevelError:
		return journal.PriWarning
	case l < slog.LevelError+4:
		return journal.PriErr
	default:
		return journal.PriCrit
	}
}

// reserved are journal fields the handler sets itself or journald owns; an
// attribute with one of these names gets an "ATTR_" prefix instead.
var reserved = map[string]bool{
	"MESSAGE": true, "MESSAGE_ID": true, "PRIORITY": true, "SYSLOG_IDENTIFIER": true,
	"SYSLOG_FACILITY": true, "SYSLOG_PID": true, "CODE_FILE": true, "CODE_LINE": true,
	"CODE_FUNC": true, "ERRNO": true,
}

// FieldName turns an attribute key into a valid journal field name: upper
// case, letters, digits and "_" only, not starting with "_" or a digit.
func FieldName(key string) string { return validLead(sanitize(key)) }

// sanitize upper-cases key and replaces what a field name may not hold by "_".
func sanitize(key string) string {
	var b strings.Builder
	for _, c := range strings.ToUpper(key) {
		switch {
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// validLead makes a sanitized name start with a letter, as journald requires.
func validLead(s string) string {
	if s != "" && s[0] >= 'A' && s[0] <= 'Z' {
		return s
	}
	s = strings.TrimLeft(s, "_")
	if s == "" {
		return "X_"
	}
	return "X" + s
}

// appendAttr resolves a and appends it, flattening groups.
func appendAttr(fs []field, prefix, textPrefix string, a slog.Attr) []field {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return fs
	}
	if a.Value.Kind() == slog.KindGroup {
		g := a.Value.Group()
		if len(g) == 0 {
			return fs
		}
		p, tp := prefix, textPrefix
		if a.Key != "" { // an inline group keeps the current prefix
			p, tp = prefix+sanitize(a.Key)+"_", textPrefix+a.Key+"."
		}
		for _, ga := range g {
			fs = appendAttr(fs, p, tp, ga)
		}
		return fs
	}
	name := validLead(prefix + sanitize(a.Key))
	if reserved[name] {
		name = "ATTR_" + name
	}
	return append(fs, field{key: name, text: textPrefix + a.Key, value: valueString(a.Value)})
}

func valueString(v slog.Value) string {
	switch v.Kind() {
	case slog.KindTime:
		return v.Time().Format(time.RFC3339Nano)
	case slog.KindDuration:
		return v.Duration().String()
	default:
		return v.String()
	}
}

// quoteIfNeeded quotes a value for the MESSAGE text the way slog's text
// handler does: when it is empty or has spaces, quotes, '=' or non-printables.
func quoteIfNeeded(s string) string {
	if s == "" {
		return `""`
	}
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError || c <= ' ' || c == '=' || c == '"' || c == 0x7f {
			return strconv.Quote(s)
		}
		i += size
	}
	return s
}
