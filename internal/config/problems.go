package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with the configuration.
type Problem struct {
	// Source says where the offending value came from:
	// "/etc/ailurus/ailurus.yaml:12", "env AILURUS_SMP", "flag --smp". Empty
	// for built-in defaults and values set in code.
	Source string
	// Path is the key, as written in the file: "redpanda.kafka_api[1].port",
	// "cluster.log_segment_size". Empty when the problem is not about one key
	// (a YAML syntax error).
	Path string
	// Message says what is wrong, and where it helps, what would be right.
	Message string
}

// String renders the problem as "source: path: message", leaving out empty
// parts, like a compiler error, so editors and humans can jump to it.
func (p Problem) String() string {
	var b strings.Builder
	if p.Source != "" {
		b.WriteString(p.Source)
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError holds every problem found in a configuration. Load and
// Validate return it (as error) when there is at least one problem; Error
// prints one problem per line, which is what `ailurus start -t` shows.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects Problems; the zero value is ready to use.
type problems []Problem

func (ps *problems) add(source, path, format string, args ...any) {
	*ps = append(*ps, Problem{Source: source, Path: path, Message: fmt.Sprintf(format, args...)})
}

// err returns nil when there is no problem, else a *ValidationError.
func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Problems: ps}
}
