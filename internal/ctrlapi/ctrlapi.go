// Package ctrlapi is the vocabulary of requests a shard (or the admin API)
// sends to the controller, carried on the bus subject bus.SubjectCtrlRequest,
// and of the controller's replies. The agent translates each into a call on
// its controller; the reply carries the Kafka error code to answer with and
// the metadata version that holds the change, which the shard waits for
// before answering so a Metadata request right after sees it.
package ctrlapi

import "github.com/ailurus/ailurus/internal/metadata"

// Ops.
const (
	OpCreateTopic      = "create_topic"
	OpDeleteTopic      = "delete_topic"
	OpCreatePartitions = "create_partitions"
	OpAlterTopicConfig = "alter_topic_config"
	OpSetClusterConfig = "set_cluster_config"
)

// Request is one controller request; Op says which field is set.
type Request struct {
	Op               string            `json:"op"`
	CreateTopic      *CreateTopic      `json:"create_topic,omitempty"`
	DeleteTopic      *DeleteTopic      `json:"delete_topic,omitempty"`
	CreatePartitions *CreatePartitions `json:"create_partitions,omitempty"`
	AlterTopicConfig *AlterTopicConfig `json:"alter_topic_config,omitempty"`
	SetClusterConfig *SetClusterConfig `json:"set_cluster_config,omitempty"`
}

// CreateTopic creates a topic. Partitions or ReplicationFactor -1 take the
// cluster defaults (default_topic_partitions, default_topic_replications).
type CreateTopic struct {
	Name              string            `json:"name"`
	Partitions        int32             `json:"partitions"`
	ReplicationFactor int16             `json:"replication_factor"`
	Configs           map[string]string `json:"configs,omitempty"`
	ValidateOnly      bool              `json:"validate_only,omitempty"`
}

// DeleteTopic deletes a topic by name, or by ID when Name is empty.
type DeleteTopic struct {
	Name string        `json:"name,omitempty"`
	ID   metadata.UUID `json:"id,omitzero"`
}

// CreatePartitions raises a topic's partition count to Count.
type CreatePartitions struct {
	Name         string `json:"name"`
	Count        int32  `json:"count"`
	ValidateOnly bool   `json:"validate_only,omitempty"`
}

// AlterTopicConfig sets and deletes topic config keys. With Replace the
// topic's configs become exactly Set (legacy AlterConfigs semantics).
type AlterTopicConfig struct {
	Name         string            `json:"name"`
	Set          map[string]string `json:"set,omitempty"`
	Delete       []string          `json:"delete,omitempty"`
	Replace      bool              `json:"replace,omitempty"`
	ValidateOnly bool              `json:"validate_only,omitempty"`
}

// SetClusterConfig upserts and removes cluster properties.
type SetClusterConfig struct {
	Upsert map[string]string `json:"upsert,omitempty"`
	Remove []string          `json:"remove,omitempty"`
}

// Reply is the controller's answer. ErrorCode is a Kafka error code (0 for
// success) and Message says what went wrong in words. Version is the
// metadata version that contains the change (0 if nothing changed).
type Reply struct {
	ErrorCode int16  `json:"error_code"`
	Message   string `json:"message,omitempty"`
	Version   uint64 `json:"version"`
	// Topic is the topic after the change, where there is one.
	Topic *metadata.Topic `json:"topic,omitempty"`
}
