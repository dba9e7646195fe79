package bus

import (
	"encoding/json"
	"time"
)

// Message types. Every body on the bus is one of these, JSON-encoded, except
// metrics pushes (raw Prometheus text). Fields are added, never renamed or
// re-typed: an agent and its children are the same binary, but a child may
// outlive a reload for a moment, and unknown fields are ignored on decode.

// MetaUpdate is one change to cluster metadata, on SubjMetaUpdate. The agent
// publishes updates with Version increasing by exactly one; a receiver that
// sees a jump has missed one and must re-sync from a snapshot (MetaFollower
// does this).
type MetaUpdate struct {
	// Version of the metadata after this update is applied; >= 1.
	Version uint64 `json:"version"`
	// Kind names the payload type; the kinds are defined by internal/metadata.
	Kind string `json:"kind"`
	// Payload is opaque here and decoded by internal/metadata.
	Payload json.RawMessage `json:"payload,omitempty"`
}

// MetaSnapshotRequest asks the agent for the full metadata, on SubjMetaSnapshot.
type MetaSnapshotRequest struct {
	// From names the requester, for the agent's logs ("shard-3").
	From string `json:"from"`
	// Have is the version the requester holds, 0 if none; for logs only.
	Have uint64 `json:"have"`
}

// MetaSnapshot is the full metadata at Version, the reply on SubjMetaSnapshot.
type MetaSnapshot struct {
	// Version of the metadata the payload describes; 0 means empty metadata.
	Version uint64 `json:"version"`
	// Payload is opaque here and decoded by internal/metadata.
	Payload json.RawMessage `json:"payload,omitempty"`
}

// ShardHealth is a shard's periodic heartbeat, on ShardHealthSubject(id).
type ShardHealth struct {
	ShardID int `json:"shard_id"`
	PID     int `json:"pid"`
	// Serving is true once the shard accepts Kafka requests.
	Serving bool `json:"serving"`
	// Partitions is the number of partition replicas the shard hosts.
	Partitions int `json:"partitions"`
	// Time the heartbeat was taken, shard's wall clock.
	Time time.Time `json:"time"`
}

// ShardReady is published once by a shard, on ShardReadySubject(id), when it
// has synced metadata and bound its listeners.
type ShardReady struct {
	ShardID int `json:"shard_id"`
	PID     int `json:"pid"`
	// MetaVersion is the metadata version the shard had when it got ready.
	MetaVersion uint64    `json:"meta_version"`
	Time        time.Time `json:"time"`
}

// SegmentClosed is published by a shard on SubjSegmentClosed when it rolls a
// segment: the file will not change again and may be uploaded.
type SegmentClosed struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Revision of the partition (the topic's creation revision), as in the
	// directory name <partition>_<revision>.
	Revision int64 `json:"revision"`
	// BaseOffset and LastOffset are the Kafka offsets of the first and last
	// record in the segment, both inclusive.
	BaseOffset int64 `json:"base_offset"`
	LastOffset int64 `json:"last_offset"`
	// Term is the Raft term (Kafka leader epoch) the segment was opened in.
	Term int64 `json:"term"`
	// Path is the absolute path of the .log file.
	Path      string `json:"path"`
	SizeBytes int64  `json:"size_bytes"`
}

// HydrateRequest asks the uploader, on SubjTieredHydrate, to bring the remote
// segment holding Offset into the local cache.
type HydrateRequest struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Revision of the partition; 0 means the current one.
	Revision int64 `json:"revision,omitempty"`
	Offset   int64 `json:"offset"`
}

// HydrateReply answers a HydrateRequest. Error is empty on success, then Path
// names a local file holding offsets [BaseOffset, LastOffset].
type HydrateReply struct {
	Path       string `json:"path,omitempty"`
	BaseOffset int64  `json:"base_offset"`
	LastOffset int64  `json:"last_offset"`
	Error      string `json:"error,omitempty"`
}

// Controller operations, the Op of a CtrlRequest. Payloads are defined by
// internal/metadata; add an operation here when a child needs a new one.
const (
	// CtrlOpCreateTopics: a shard auto-creates topics a client asked for.
	CtrlOpCreateTopics = "create_topics"
)

// CtrlRequest asks the agent's controller, on SubjCtrlRequest, to do Op.
type CtrlRequest struct {
	Op      string          `json:"op"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// CtrlReply answers a CtrlRequest. Error is empty on success.
type CtrlReply struct {
	Error   string          `json:"error,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}
