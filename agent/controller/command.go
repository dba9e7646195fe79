package controller

import (
	"encoding/json"
	"fmt"

	"github.com/ailurus/ailurus/internal/metadata"
)

// command is one controller operation as written in a Raft log entry.
//
// apply is the whole semantics of the command: it checks the command against
// st and returns the State after it (nil when the command changes nothing)
// and the Change to announce. It must be deterministic — same st, index and
// command, same result on every node and on every replay — so it may not read
// clocks, randomness or anything outside its arguments, and it must not
// modify st. index is the Raft log index of the entry (0 when validating
// ahead of Apply). The FSM sets the Change's Version.
type command interface {
	op() string
	apply(st *metadata.State, index uint64) (next *metadata.State, ch metadata.Change, err error)
}

// Op tags. They are stored in the log: never rename or reuse one.
const (
	opInitCluster      = "init_cluster"
	opRegisterBroker   = "register_broker"
	opCreateTopic      = "create_topic"
	opDeleteTopic      = "delete_topic"
	opCreatePartitions = "create_partitions"
	opAlterTopicConfig = "alter_topic_config"
	opSetClusterConfig = "set_cluster_config"
)

// newCommand makes an empty command for each op tag, to decode into.
var newCommand = map[string]func() command{
	opInitCluster:      func() command { return &initClusterCmd{} },
	opRegisterBroker:   func() command { return &registerBrokerCmd{} },
	opCreateTopic:      func() command { return &createTopicCmd{} },
	opDeleteTopic:      func() command { return &deleteTopicCmd{} },
	opCreatePartitions: func() command { return &createPartitionsCmd{} },
	opAlterTopicConfig: func() command { return &alterTopicConfigCmd{} },
	opSetClusterConfig: func() command { return &setClusterConfigCmd{} },
}

// envelope is the JSON of a log entry: {"op":"create_topic","cmd":{...}}.
type envelope struct {
	Op  string          `json:"op"`
	Cmd json.RawMessage `json:"cmd"`
}

func encodeCommand(c command) ([]byte, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", c.op(), err)
	}
	return json.Marshal(envelope{Op: c.op(), Cmd: body})
}

func decodeCommand(data []byte) (command, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("%w: %w", errUnknownCommand, err)
	}
	mk, ok := newCommand[env.Op]
	if !ok {
		return nil, fmt.Errorf("%w: op %q", errUnknownCommand, env.Op)
	}
	c := mk()
	if err := json.Unmarshal(env.Cmd, c); err != nil {
		return nil, fmt.Errorf("%w: op %q: %w", errUnknownCommand, env.Op, err)
	}
	return c, nil
}
