package metadata

import (
	"fmt"
	"strings"
)

// MaxTopicNameLen is Kafka's limit on a topic name, in bytes. It leaves room
// for the partition suffix in directory names within a 255-byte file name.
const MaxTopicNameLen = 249

// ValidateTopicName applies Kafka's rules (org.apache.kafka.common.internals.Topic):
// 1 to 249 characters of [a-zA-Z0-9._-], and neither "." nor "..". The error
// wraps ErrInvalidTopicName and reads like Kafka's, for the response message.
func ValidateTopicName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: topic name is illegal, it can't be empty", ErrInvalidTopicName)
	case name == "." || name == "..":
		return fmt.Errorf("%w: topic name cannot be \".\" or \"..\"", ErrInvalidTopicName)
	case len(name) > MaxTopicNameLen:
		return fmt.Errorf("%w: topic name is illegal, it can't be longer than %d characters, topic name: %s",
			ErrInvalidTopicName, MaxTopicNameLen, name)
	}
	for i := 0; i < len(name); i++ {
		if !isTopicNameByte(name[i]) {
			return fmt.Errorf("%w: topic name %q is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'",
				ErrInvalidTopicName, name)
		}
	}
	return nil
}

func isTopicNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

// collisionKey maps a name to the form Kafka uses to detect topics whose names
// differ only by '.' versus '_' (they would share metric names).
func collisionKey(name string) string { return strings.ReplaceAll(name, ".", "_") }

// CollidingTopic returns the name of an existing topic that differs from name
// only by '.' versus '_', if there is one. Kafka refuses to create such a topic
// with INVALID_TOPIC_EXCEPTION. An exact match is not a collision (that is
// TOPIC_ALREADY_EXISTS). Cost: one pass over the topics.
func (s *State) CollidingTopic(name string) (string, bool) {
	if !strings.ContainsAny(name, "._") {
		return "", false
	}
	key := collisionKey(name)
	for other := range s.Topics {
		if other != name && collisionKey(other) == key {
			return other, true
		}
	}
	return "", false
}
