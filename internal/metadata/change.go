package metadata

// ChangeKind names what an applied controller command changed. The values are
// stable strings: they travel on the bus as JSON.
type ChangeKind string

// Change kinds and the Change fields each one sets.
const (
	// ChangeClusterInitialized: the first leader gave the cluster its id and
	// initial configuration. Sets ClusterID and ClusterConfig.
	ChangeClusterInitialized ChangeKind = "cluster_initialized"
	// ChangeBrokerRegistered: a broker was added or its record changed. Sets Broker.
	ChangeBrokerRegistered ChangeKind = "broker_registered"
	// ChangeTopicCreated: sets Topic, the new topic with its placement.
	ChangeTopicCreated ChangeKind = "topic_created"
	// ChangeTopicDeleted: sets Topic, the topic as it was before deletion, so
	// owners know which partition directories (by Revision) to remove.
	ChangeTopicDeleted ChangeKind = "topic_deleted"
	// ChangePartitionsCreated: sets Topic (after the change) and Partitions,
	// the ids of the partitions added.
	ChangePartitionsCreated ChangeKind = "partitions_created"
	// ChangeTopicConfigAltered: sets Topic, after the change.
	ChangeTopicConfigAltered ChangeKind = "topic_config_altered"
	// ChangeClusterConfigChanged: sets ClusterConfig, the whole configuration
	// after the change.
	ChangeClusterConfigChanged ChangeKind = "cluster_config_changed"
	// ChangeStateReset: the whole State was replaced from a snapshot (at start,
	// or when a follower installs the leader's snapshot). Version may jump;
	// receivers must reload the State instead of applying a delta. Sets nothing else.
	ChangeStateReset ChangeKind = "state_reset"
)

// Change describes one command the controller applied. Changes are produced
// in Version order; Version is the State.Version right after the change, so
// a receiver that has applied version v expects v+1 next, and reloads the
// State on a gap or on ChangeStateReset.
//
// Pointers refer to immutable values shared with the controller's State: do
// not modify them. A Change survives JSON encoding unchanged.
type Change struct {
	Version       uint64        `json:"version"`
	Kind          ChangeKind    `json:"kind"`
	ClusterID     UUID          `json:"cluster_id,omitzero"`
	Broker        *Broker       `json:"broker,omitempty"`
	Topic         *Topic        `json:"topic,omitempty"`
	Partitions    []int32       `json:"partitions,omitempty"`
	ClusterConfig ClusterConfig `json:"cluster_config,omitempty"`
}
