package metadata

import "errors"

// Sentinel errors. Wrap them with %w and test with errors.Is. The Kafka code
// each one becomes in a response is given beside it.
var (
	// ErrInvalidTopicName: the name breaks Kafka's rules (see ValidateTopicName)
	// or collides with an existing topic once '.' and '_' are unified.
	// Kafka: INVALID_TOPIC_EXCEPTION (17).
	ErrInvalidTopicName = errors.New("invalid topic name")

	// ErrNotEnoughBrokers: Place was asked for more replicas per partition than
	// there are brokers with at least one shard.
	// Kafka: INVALID_REPLICATION_FACTOR (38).
	ErrNotEnoughBrokers = errors.New("not enough brokers with shards for the replication factor")

	// ErrInvalidUUID: text that is not a 22-character base64url UUID.
	ErrInvalidUUID = errors.New("invalid uuid")
)
