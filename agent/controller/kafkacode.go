package controller

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
)

// ErrorCode returns the Kafka error code for an error from this package: 0
// for nil, UNKNOWN_SERVER_ERROR (-1) for anything unrecognised. The agent uses
// it to answer Kafka requests forwarded by shards.
func ErrorCode(err error) int16 {
	if err == nil {
		return 0
	}
	for _, m := range kafkaCodes {
		if errors.Is(err, m.err) {
			return m.code.Code
		}
	}
	return kerr.UnknownServerError.Code
}

var kafkaCodes = []struct {
	err  error
	code *kerr.Error
}{
	{ErrNotController, kerr.NotController},
	{ErrClosed, kerr.NotController}, // clients retry elsewhere
	{ErrTopicExists, kerr.TopicAlreadyExists},
	{ErrUnknownTopic, kerr.UnknownTopicOrPartition},
	{ErrUnknownTopicID, kerr.UnknownTopicID},
	{ErrInvalidPartitions, kerr.InvalidPartitions},
	{ErrInvalidReplicationFactor, kerr.InvalidReplicationFactor},
	{ErrInvalidTopicName, kerr.InvalidTopicException},
	{ErrInternalTopic, kerr.InvalidTopicException},
	{ErrInvalidConfig, kerr.InvalidConfig},
	{ErrInvalidBroker, kerr.InvalidRequest},
	{ErrTimeout, kerr.RequestTimedOut},
}
