// Package group holds `ailurus group`: list, describe (lag per partition),
// seek and delete, with rpk's flags, over kadm. One file per verb.
package group

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ailurus/ailurus/cli/config"
	"github.com/ailurus/ailurus/cli/out"
)

// ErrNoGroup: the named group does not exist (no members, no offsets).
var ErrNoGroup = errors.New("group does not exist")

type shared struct {
	conn   *config.Flags
	format *out.Format
}

// Command returns `ailurus group` with its verbs.
func Command() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "group",
		Aliases: []string{"g"},
		Short:   "List, describe, seek and delete consumer groups",
	}
	s := &shared{
		conn:   config.AddFlags(cmd.PersistentFlags()),
		format: out.AddFlag(cmd.PersistentFlags()),
	}
	cmd.AddCommand(listCmd(s), describeCmd(s), seekCmd(s), deleteCmd(s), offsetDeleteCmd(s))
	return cmd
}

func (s *shared) connect(ctx context.Context) (*kgo.Client, *kadm.Client, error) {
	cfg, err := s.conn.Load()
	if err != nil {
		return nil, nil, err
	}
	return cfg.Connect(ctx)
}

func noGroup(name string) error {
	return fmt.Errorf("%w: %s: see `ailurus group list`", ErrNoGroup, name)
}
