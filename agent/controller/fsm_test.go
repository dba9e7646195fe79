package controller

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/metadata"
)

// applyCmd feeds one command to the FSM as Raft would, at index idx.
func applyCmd(t *testing.T, f *fsm, idx uint64, c command) applyResult {
	t.Helper()
	data, err := encodeCommand(c)
	if err != nil {
		t.Fatal(err)
	}
	return f.Apply(&raft.Log{Index: idx, Type: raft.LogCommand, Data: data}).(applyResult)
}

// TestFSMRejectsConflictsDeterministically drives the FSM directly, as a
// follower would replay a log where two proposals raced past the leader's
// early checks.
func TestFSMRejectsConflictsDeterministically(t *testing.T) {
	var got []metadata.Change
	f := newFSM(func(ch metadata.Change) { got = append(got, ch) }, slog.New(slog.DiscardHandler))
	broker := &registerBrokerCmd{Broker: metadata.Broker{NodeID: 1, KafkaAddr: "h:9092", Shards: 2}}
	if res := applyCmd(t, f, 1, broker); res.err != nil || res.change.Version != 1 {
		t.Fatalf("register: %+v", res)
	}
	create := &createTopicCmd{Name: "t", ID: metadata.UUID{7}, Partitions: 2, ReplicationFactor: 1}
	if res := applyCmd(t, f, 2, create); res.err != nil || res.change.Topic.Revision != 2 {
		t.Fatalf("create: %+v", res)
	}
	dup := &createTopicCmd{Name: "t", ID: metadata.UUID{8}, Partitions: 2, ReplicationFactor: 1}
	if res := applyCmd(t, f, 3, dup); !errors.Is(res.err, ErrTopicExists) || res.change.Version != 2 {
		t.Errorf("duplicate create: %+v", res)
	}
	sameID := &createTopicCmd{Name: "u", ID: metadata.UUID{7}, Partitions: 1, ReplicationFactor: 1}
	if res := applyCmd(t, f, 4, sameID); res.err == nil {
		t.Error("a second topic with the same id was accepted")
	}
	shrink := &createPartitionsCmd{Topic: "t", Count: 1}
	if res := applyCmd(t, f, 5, shrink); !errors.Is(res.err, ErrInvalidPartitions) {
		t.Errorf("shrink: %+v", res)
	}
	del := &deleteTopicCmd{Name: "gone"}
	if res := applyCmd(t, f, 6, del); !errors.Is(res.err, ErrUnknownTopic) {
		t.Errorf("delete unknown: %+v", res)
	}
	// Entries this version cannot read are skipped, not fatal.
	for i, data := range [][]byte{[]byte("not json"), []byte(`{"op":"from_the_future","cmd":{}}`), []byte(`{"op":"create_topic","cmd":7}`)} {
		res := f.Apply(&raft.Log{Index: uint64(7 + i), Type: raft.LogCommand, Data: data}).(applyResult)
		if !errors.Is(res.err, errUnknownCommand) {
			t.Errorf("entry %q: %+v, want errUnknownCommand", data, res)
		}
	}
	if v := f.state.Load().Version; v != 2 || len(got) != 2 {
		t.Errorf("version %d with %d changes after rejected entries, want 2 and 2", v, len(got))
	}
}

func TestFSMSnapshotRoundTrip(t *testing.T) {
	discard := slog.New(slog.DiscardHandler)
	f := newFSM(nil, discard)
	applyCmd(t, f, 1, &initClusterCmd{ClusterID: metadata.UUID{1}, ClusterConfig: metadata.ClusterConfig{"a": "b"}})
	applyCmd(t, f, 2, &registerBrokerCmd{Broker: metadata.Broker{NodeID: 1, KafkaAddr: "h:9092", Shards: 3, Rack: "r"}})
	applyCmd(t, f, 3, &createTopicCmd{Name: "t", ID: metadata.UUID{7}, Partitions: 4, ReplicationFactor: 1, Configs: map[string]string{"x": "y"}})

	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	var resets []metadata.Change
	g := newFSM(func(ch metadata.Change) { resets = append(resets, ch) }, discard)
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	if want, got := f.state.Load().Clone(), g.state.Load().Clone(); !reflect.DeepEqual(want, got) {
		t.Errorf("restored state:\n got %+v\nwant %+v", got, want)
	}
	if len(resets) != 1 || resets[0].Kind != metadata.ChangeStateReset || resets[0].Version != 3 {
		t.Errorf("restore announced %+v, want one state_reset at 3", resets)
	}
	if err := g.Restore(io.NopCloser(bytes.NewReader([]byte(`{"format":99,"state":{}}`)))); !errors.Is(err, errSnapshotFormat) {
		t.Errorf("restore of an unknown format: %v", err)
	}
}

func TestChangeJSONRoundTrip(t *testing.T) {
	f := newFSM(nil, slog.New(slog.DiscardHandler))
	applyCmd(t, f, 1, &registerBrokerCmd{Broker: metadata.Broker{NodeID: 1, KafkaAddr: "h:9092", Shards: 1}})
	res := applyCmd(t, f, 2, &createTopicCmd{Name: "t", ID: metadata.UUID{7}, Partitions: 2, ReplicationFactor: 1})
	raw, err := json.Marshal(res.change)
	if err != nil {
		t.Fatal(err)
	}
	var back metadata.Change
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, res.change) {
		t.Errorf("change changed through JSON:\n got %+v\nwant %+v\njson %s", back, res.change, raw)
	}
}

func TestErrorCode(t *testing.T) {
	if ErrorCode(nil) != 0 || ErrorCode(errors.New("boom")) != -1 {
		t.Error("nil must map to 0 and unknown errors to UNKNOWN_SERVER_ERROR")
	}
	if got := ErrorCode(metadata.ValidateTopicName("")); got != 17 {
		t.Errorf("metadata's invalid name maps to %d, want 17", got)
	}
}

// memSink is a raft.SnapshotSink in memory.
type memSink struct{ bytes.Buffer }

func (*memSink) ID() string    { return "mem" }
func (*memSink) Cancel() error { return nil }
func (*memSink) Close() error  { return nil }
