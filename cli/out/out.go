// Package out prints command results: aligned tables for people
// (text/tabwriter) or JSON for scripts (--format json). Commands build the
// data once and hand it to Printer, which picks the shape.
package out

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"
)

// Format is the value of --format: "text" (default) or "json".
type Format string

// AddFlag registers --format on fs.
func AddFlag(fs *pflag.FlagSet) *Format {
	f := Format("text")
	fs.Var(&f, "format", "output format: text or json")
	return &f
}

func (f *Format) String() string { return string(*f) }
func (f *Format) Type() string   { return "text|json" }

// Set validates the flag value.
func (f *Format) Set(s string) error {
	switch s {
	case "text", "json":
		*f = Format(s)
		return nil
	}
	return fmt.Errorf("unknown format %q: use text or json", s)
}

// JSON reports whether scripts asked for JSON.
func (f *Format) JSON() bool { return f != nil && *f == "json" }

// WriteJSON writes v as indented JSON followed by a newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Table is an aligned table; header in upper case as rpk prints it.
type Table struct {
	tw *tabwriter.Writer
}

// NewTable starts a table with the given header.
func NewTable(w io.Writer, header ...string) *Table {
	t := &Table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		for i := range header {
			header[i] = strings.ToUpper(header[i])
		}
		t.Row(toAny(header)...)
	}
	return t
}

// Row adds one row; values are printed with %v.
func (t *Table) Row(cells ...any) {
	for i, c := range cells {
		if i > 0 {
			fmt.Fprint(t.tw, "\t")
		}
		fmt.Fprint(t.tw, c)
	}
	fmt.Fprint(t.tw, "\n")
}

// Flush writes the table out.
func (t *Table) Flush() error { return t.tw.Flush() }

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Section prints a section title for multi-part text output.
func Section(w io.Writer, title string) {
	fmt.Fprintf(w, "%s\n%s\n", strings.ToUpper(title), strings.Repeat("=", len(title)))
}
