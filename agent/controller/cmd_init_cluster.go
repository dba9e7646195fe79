package controller

import (
	"github.com/ailurus/ailurus/internal/metadata"
)

// initClusterCmd gives a new cluster its id and initial configuration. The
// first leader proposes it (see becomeLeader); once the cluster has an id it
// is a no-op, so a repeat after a leadership change or a crash is harmless.
type initClusterCmd struct {
	ClusterID     metadata.UUID          `json:"cluster_id"`
	ClusterConfig metadata.ClusterConfig `json:"cluster_config,omitempty"`
}

func (*initClusterCmd) op() string { return opInitCluster }

func (c *initClusterCmd) apply(st *metadata.State, _ uint64) (*metadata.State, metadata.Change, error) {
	if !st.ClusterID.IsZero() || c.ClusterID.IsZero() {
		return nil, metadata.Change{Kind: metadata.ChangeClusterInitialized, ClusterID: st.ClusterID}, nil
	}
	cc, _, err := editConfig(st.ClusterConfig, c.ClusterConfig, nil)
	if err != nil {
		return nil, metadata.Change{}, err
	}
	next := st.WithClusterID(c.ClusterID).WithClusterConfig(cc)
	return next, metadata.Change{
		Kind:          metadata.ChangeClusterInitialized,
		ClusterID:     c.ClusterID,
		ClusterConfig: cc,
	}, nil
}
