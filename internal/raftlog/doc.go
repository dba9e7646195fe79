// Package raftlog makes a partition's storage.Log the log of its Raft group:
// Store implements hashicorp/raft's LogStore so that a Raft entry carrying a
// Kafka record batch IS that batch in the segment files (no second copy), and
// the Raft term is the batch's partition leader epoch. Raft entries that are
// not batches (configuration, no-op, barrier, FSM commands) take a Raft index
// but no Kafka offset; they live in a small side file next to the segments.
// SharedStable gives every Raft group of a process its term-and-vote store
// in one bbolt file.
//
// README.md has the index <-> ordinal <-> offset mapping, the side file
// format, the crash-ordering argument and why a Raft snapshot never deletes
// Kafka data.
//
// Locks: Store.wmu (writers: StoreLogs, DeleteRange; held across IO), then
// Store.mu (state; never held across IO), then the storage.Log's own locks.
// The read-ahead cache has its own mutex, taken alone.
package raftlog

import "errors"

// Errors. Raft logs what a LogStore returns and, for StoreLogs, steps down
// (leader) or rejects the AppendEntries (follower).
var (
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("raft log store closed")
	// ErrFailed: a write or fsync of the side file or the partition log
	// failed, or the partition log was appended to behind the store's back.
	// The store refuses writes until it is reopened (which recovers it from
	// disk, like storage.ErrFailed).
	ErrFailed = errors.New("raft log store failed")
	// ErrOutOfOrder: StoreLogs got entries whose indexes are not consecutive
	// or that would overwrite stored ones (Raft must DeleteRange first).
	ErrOutOfOrder = errors.New("raft log entries out of order")
	// ErrBadEntry: an entry cannot be stored: a LogCommand framed as a
	// Kafka batch fails its checks, or a term does not fit a leader epoch.
	ErrBadEntry = errors.New("bad raft log entry")
	// ErrHole: DeleteRange asked for a range that is neither a prefix nor a
	// suffix of the stored entries.
	ErrHole = errors.New("raft log delete range would leave a hole")
	// ErrCorrupt: the side file or its agreement with the partition log is
	// broken in a way a torn write cannot explain. Opening refuses.
	ErrCorrupt = errors.New("raft log side file corrupt")
)
