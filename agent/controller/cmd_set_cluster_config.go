package controller

import (
	"context"

	"github.com/ailurus/ailurus/internal/metadata"
)

// SetClusterConfig upserts and removes cluster properties, as the admin API's
// PUT /v1/cluster_config {"upsert":{...},"remove":[...]} does. It returns the
// State version after the call (unchanged if nothing changed). Errors wrap
// ErrInvalidConfig or ErrNotController. Values are stored as given.
func (c *Controller) SetClusterConfig(ctx context.Context, upsert map[string]string, remove []string) (uint64, error) {
	ch, err := c.propose(ctx, &setClusterConfigCmd{Upsert: upsert, Remove: remove})
	return ch.Version, err
}

type setClusterConfigCmd struct {
	Upsert map[string]string `json:"upsert,omitempty"`
	Remove []string          `json:"remove,omitempty"`
}

func (*setClusterConfigCmd) op() string { return opSetClusterConfig }

func (c *setClusterConfigCmd) apply(st *metadata.State, _ uint64) (*metadata.State, metadata.Change, error) {
	cc, changed, err := editConfig(st.ClusterConfig, c.Upsert, c.Remove)
	if err != nil {
		return nil, metadata.Change{}, err
	}
	ch := metadata.Change{Kind: metadata.ChangeClusterConfigChanged, ClusterConfig: cc}
	if !changed {
		return nil, ch, nil
	}
	return st.WithClusterConfig(cc), ch, nil
}
