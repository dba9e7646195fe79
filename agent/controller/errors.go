package controller

import (
	"errors"

	"github.com/ailurus/ailurus/internal/metadata"
)

// Sentinel errors returned by the write methods, wrapped with detail; test
// them with errors.Is. ErrorCode maps them to Kafka error codes.
var (
	// ErrNotController: this node is not the Raft leader, or lost leadership
	// while the command was in flight (it may or may not have been applied).
	ErrNotController = errors.New("not the controller")
	// ErrTopicExists: a topic of that name exists.
	ErrTopicExists = errors.New("topic already exists")
	// ErrUnknownTopic: no topic of that name.
	ErrUnknownTopic = errors.New("unknown topic")
	// ErrUnknownTopicID: no topic with that id.
	ErrUnknownTopicID = errors.New("unknown topic id")
	// ErrInvalidPartitions: partition count out of 1..MaxPartitions, or not an
	// increase for CreatePartitions.
	ErrInvalidPartitions = errors.New("invalid partition count")
	// ErrInvalidReplicationFactor: below 1, above 1 (not supported yet), or
	// more than the brokers that can hold replicas.
	ErrInvalidReplicationFactor = errors.New("invalid replication factor")
	// ErrInvalidTopicName: see metadata.ValidateTopicName. The same value as
	// metadata.ErrInvalidTopicName, so either matches.
	ErrInvalidTopicName = metadata.ErrInvalidTopicName
	// ErrInternalTopic: deleting, or adding partitions to, a topic the
	// system owns (__consumer_offsets, __transaction_state): group and
	// transactional ids hash onto its partition count.
	ErrInternalTopic = errors.New("internal topic")
	// ErrInvalidConfig: an empty config key, or a key both set and removed.
	ErrInvalidConfig = errors.New("invalid config")
	// ErrInvalidBroker: a broker registration with missing or bad fields.
	ErrInvalidBroker = errors.New("invalid broker")
	// ErrTimeout: the command could not be queued before the deadline.
	ErrTimeout = errors.New("controller timed out")
	// ErrClosed: the controller is shut down.
	ErrClosed = errors.New("controller closed")
	// errUnknownCommand: a log entry this version cannot decode. It means a
	// newer node wrote it; the entry is skipped and logged at error level.
	errUnknownCommand = errors.New("unknown controller command")
)
