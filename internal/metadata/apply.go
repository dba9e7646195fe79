package metadata

import (
	"errors"
	"fmt"
)

// ErrNeedSnapshot: a Change cannot be applied on top of this State (a gap in
// versions, or a reset): the receiver must load a whole snapshot.
var ErrNeedSnapshot = errors.New("metadata change needs a snapshot")

// Apply returns the State that follows s after c, leaving s untouched. c
// must be the next version. Followers of the controller (shards) use it to
// apply the changes published on the bus.
func (s *State) Apply(c Change) (*State, error) {
	if c.Version != s.Version+1 {
		return nil, fmt.Errorf("%w: have version %d, change is %d", ErrNeedSnapshot, s.Version, c.Version)
	}
	var n *State
	switch c.Kind {
	case ChangeClusterInitialized:
		n = s.WithClusterID(c.ClusterID).WithClusterConfig(c.ClusterConfig)
	case ChangeBrokerRegistered:
		if c.Broker == nil {
			return nil, fmt.Errorf("%w: %s without broker", ErrNeedSnapshot, c.Kind)
		}
		n = s.WithBroker(*c.Broker)
	case ChangeTopicCreated, ChangePartitionsCreated, ChangeTopicConfigAltered:
		if c.Topic == nil {
			return nil, fmt.Errorf("%w: %s without topic", ErrNeedSnapshot, c.Kind)
		}
		n = s.WithTopic(c.Topic)
	case ChangeTopicDeleted:
		if c.Topic == nil {
			return nil, fmt.Errorf("%w: %s without topic", ErrNeedSnapshot, c.Kind)
		}
		n = s.WithoutTopic(c.Topic.Name)
	case ChangeClusterConfigChanged:
		n = s.WithClusterConfig(c.ClusterConfig)
	default:
		return nil, fmt.Errorf("%w: %s", ErrNeedSnapshot, c.Kind)
	}
	n.Version = c.Version
	return n, nil
}
