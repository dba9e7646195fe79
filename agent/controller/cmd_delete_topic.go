package controller

import (
	"context"
	"fmt"

	"github.com/ailurus/ailurus/internal/metadata"
)

// DeleteTopic deletes the named topic. The returned Change (Kind
// ChangeTopicDeleted) holds the topic as it was, so owners can remove its
// partition directories (named with its Revision). Errors wrap
// ErrUnknownTopic or ErrNotController.
func (c *Controller) DeleteTopic(ctx context.Context, name string) (metadata.Change, error) {
	return c.propose(ctx, &deleteTopicCmd{Name: name})
}

// DeleteTopicByID deletes the topic with this id (Kafka DeleteTopics v6+).
// Errors wrap ErrUnknownTopicID or ErrNotController.
func (c *Controller) DeleteTopicByID(ctx context.Context, id metadata.UUID) (metadata.Change, error) {
	return c.propose(ctx, &deleteTopicCmd{ID: id})
}

// deleteTopicCmd names the topic by ID when ID is set, else by Name.
type deleteTopicCmd struct {
	Name string        `json:"name,omitempty"`
	ID   metadata.UUID `json:"id,omitzero"`
}

func (*deleteTopicCmd) op() string { return opDeleteTopic }

func (c *deleteTopicCmd) apply(st *metadata.State, _ uint64) (*metadata.State, metadata.Change, error) {
	var t *metadata.Topic
	var ok bool
	if !c.ID.IsZero() {
		if t, ok = st.TopicByID(c.ID); !ok {
			return nil, metadata.Change{}, fmt.Errorf("%w: %s", ErrUnknownTopicID, c.ID)
		}
	} else if t, ok = st.Topic(c.Name); !ok {
		return nil, metadata.Change{}, fmt.Errorf("%w: topic %q", ErrUnknownTopic, c.Name)
	}
	if t.Internal {
		return nil, metadata.Change{}, fmt.Errorf("%w: %s holds the node's own state and cannot be deleted", ErrInternalTopic, t.Name)
	}
	return st.WithoutTopic(t.Name), metadata.Change{Kind: metadata.ChangeTopicDeleted, Topic: t}, nil
}
