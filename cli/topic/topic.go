// Package topic holds `ailurus topic`: create, list, describe, delete,
// alter-config, add-partitions, trim-prefix, produce and consume, with
// rpk's flags. Admin verbs go through kadm, produce and consume through
// kgo; one file per verb.
package topic

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ailurus/ailurus/cli/config"
	"github.com/ailurus/ailurus/cli/out"
)

// Sentinel errors.
var (
	// ErrNoTopic: the named topic does not exist.
	ErrNoTopic = errors.New("topic does not exist")
	// ErrPartial: some items of a multi-item request failed.
	ErrPartial = errors.New("some requests failed")
)

// shared is what every verb of the noun sees: the connection flags and --format.
type shared struct {
	conn   *config.Flags
	format *out.Format
}

// Command returns `ailurus topic` with its verbs.
func Command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "topic",
		Short: "Create, inspect, change, produce to and consume from topics",
	}
	s := &shared{
		conn:   config.AddFlags(cmd.PersistentFlags()),
		format: out.AddFlag(cmd.PersistentFlags()),
	}
	cmd.AddCommand(
		createCmd(s), listCmd(s), describeCmd(s), deleteCmd(s),
		alterConfigCmd(s), addPartitionsCmd(s), trimPrefixCmd(s),
		produceCmd(s), consumeCmd(s),
	)
	return cmd
}

// connect loads the config and returns a checked client; close it with cl.Close.
func (s *shared) connect(ctx context.Context, opts ...kgo.Opt) (*config.Config, *kgo.Client, *kadm.Client, error) {
	cfg, err := s.conn.Load()
	if err != nil {
		return nil, nil, nil, err
	}
	cl, adm, err := cfg.Connect(ctx, opts...)
	if err != nil {
		return nil, nil, nil, err
	}
	return cfg, cl, adm, nil
}

// signalContext is cancelled on SIGINT/SIGTERM.
func signalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

// noTopicError is a missing topic; errors.Is(err, ErrNoTopic) holds.
type noTopicError struct{ name string }

func (e noTopicError) Error() string {
	return fmt.Sprintf("topic %s does not exist: create it with `ailurus topic create %s`", e.name, e.name)
}

func (e noTopicError) Is(target error) bool { return target == ErrNoTopic }

// noTopic is the error for a missing topic, with the command that fixes it.
func noTopic(name string) error { return noTopicError{name} }

// topicErr turns a per-topic Kafka error into one that says what to do.
func topicErr(name string, err error, msg string) error {
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return noTopic(name)
	}
	if msg != "" && !strings.Contains(err.Error(), msg) {
		return fmt.Errorf("%s: %w: %s", name, err, msg)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// partial is the error of a multi-item request where some items failed;
// it repeats each failure so that stderr alone says what went wrong.
func partial(what string, failures []string, total int) error {
	return fmt.Errorf("%w: %d of %d %s:\n  %s", ErrPartial, len(failures), total, what, strings.Join(failures, "\n  "))
}

// parseKVs parses k=v pairs (for -c and --set).
func parseKVs(flag string, kvs []string) (map[string]*string, error) {
	m := map[string]*string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s %q: want key=value, e.g. %s retention.ms=86400000", flag, kv, flag)
		}
		m[k] = &v
	}
	return m, nil
}
