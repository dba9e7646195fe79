package controller

import (
	"context"
	"fmt"

	"github.com/ailurus/ailurus/internal/metadata"
)

// AlterTopicConfigRequest changes some properties of one topic, as Kafka's
// IncrementalAlterConfigs SET and DELETE do. (Legacy AlterConfigs, which
// replaces every property, is Set with the new values plus Delete of the
// keys that are gone.)
type AlterTopicConfigRequest struct {
	Topic  string
	Set    map[string]string // key -> new value; not modified
	Delete []string          // keys to remove; absent keys are ignored
	// ValidateOnly checks the request and returns the would-be topic.
	ValidateOnly bool
}

// AlterTopicConfig applies req. The Change (Kind ChangeTopicConfigAltered)
// holds the topic after it; a request that changes nothing keeps the Version.
// Errors wrap ErrUnknownTopic, ErrInvalidConfig or ErrNotController. Values
// are stored as given: property names and values are checked by the caller.
func (c *Controller) AlterTopicConfig(ctx context.Context, req AlterTopicConfigRequest) (metadata.Change, error) {
	cmd := &alterTopicConfigCmd{Topic: req.Topic, Set: req.Set, Delete: req.Delete}
	if req.ValidateOnly {
		return c.check(cmd)
	}
	return c.propose(ctx, cmd)
}

type alterTopicConfigCmd struct {
	Topic  string            `json:"topic"`
	Set    map[string]string `json:"set,omitempty"`
	Delete []string          `json:"delete,omitempty"`
}

func (*alterTopicConfigCmd) op() string { return opAlterTopicConfig }

func (c *alterTopicConfigCmd) apply(st *metadata.State, _ uint64) (*metadata.State, metadata.Change, error) {
	t, ok := st.Topic(c.Topic)
	if !ok {
		return nil, metadata.Change{}, fmt.Errorf("%w: topic %q", ErrUnknownTopic, c.Topic)
	}
	configs, changed, err := editConfig(t.Configs, c.Set, c.Delete)
	if err != nil {
		return nil, metadata.Change{}, fmt.Errorf("topic %q: %w", c.Topic, err)
	}
	if !changed {
		return nil, metadata.Change{Kind: metadata.ChangeTopicConfigAltered, Topic: t}, nil
	}
	nt := *t // partitions are shared, unchanged
	nt.Configs = configs
	return st.WithTopic(&nt), metadata.Change{Kind: metadata.ChangeTopicConfigAltered, Topic: &nt}, nil
}
