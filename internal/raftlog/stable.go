package raftlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// SharedStable is the StableStore (current term, last vote) of every
// partition group of one process, in one bbolt file through raft-boltdb, so
// that 1,000 partitions cost one file and one fsync per term or vote change
// rather than 1,000 files. Group hands out a per-partition view whose keys are
// prefixed with the group id.
//
// Lifecycle: opened once by the shard at start, before any partition's Raft;
// closed after every Raft using a view has shut down. Safe for concurrent
// use; every Set that changes a value is its own durable bbolt transaction
// (bbolt serialises writers), which is fine for term and vote changes.
type SharedStable struct {
	db *raftboltdb.BoltStore
}

// OpenSharedStable opens (creating if needed) the bolt file at path. If
// another process holds the file it fails after lockTimeout rather than
// hanging (0 waits forever).
func OpenSharedStable(path string, lockTimeout time.Duration) (*SharedStable, error) {
	db, err := raftboltdb.New(raftboltdb.Options{
		Path:        path,
		BoltOptions: &bbolt.Options{Timeout: lockTimeout},
	})
	if err != nil {
		return nil, fmt.Errorf("open raft stable store %s: %w", path, err)
	}
	return &SharedStable{db: db}, nil
}

// Close closes the bolt file. Views must not be used afterwards.
func (s *SharedStable) Close() error { return s.db.Close() }

// Group returns the StableStore of the Raft group named id (e.g.
// "kafka/orders/3"). Keys are stored as uvarint(len(id)) | id | key, so no
// two ids can produce the same key. Views are cheap values; asking twice for
// the same id gives views on the same keys.
func (s *SharedStable) Group(id string) (raft.StableStore, error) {
	if id == "" {
		return nil, errors.New("raft stable store: empty group id")
	}
	p := binary.AppendUvarint(nil, uint64(len(id)))
	return stableView{db: s.db, prefix: append(p, id...)}, nil
}

// stableView is one group's slice of the shared bolt file. Get and GetUint64
// of a key never set return raft-boltdb's ErrKeyNotFound ("not found"),
// which is what hashicorp/raft expects.
type stableView struct {
	db     *raftboltdb.BoltStore
	prefix []byte
}

var _ raft.StableStore = stableView{}

func (v stableView) key(k []byte) []byte {
	b := make([]byte, 0, len(v.prefix)+len(k))
	return append(append(b, v.prefix...), k...)
}

// Set and SetUint64 skip writing the value a key already holds. Every
// write is a bolt commit (two fdatasyncs) that all groups of the process
// queue for, one at a time, and hashicorp/raft writes unchanged values on
// every start: NewRaft stores the term it has just read, and a sole voter's
// election votes for the same candidate as the one before. Skipping them
// halves the commits of a restart (two instead of four per group), which
// made restarting 10,000 partitions take about a minute. A value read back
// was committed with its fdatasync, so it is as durable as a rewrite; and
// only the group's own Raft writes its keys, so nothing changes between the
// read and the write.
func (v stableView) Set(k, val []byte) error {
	key := v.key(k)
	if cur, err := v.db.Get(key); err == nil && bytes.Equal(cur, val) {
		return nil
	}
	return v.db.Set(key, val)
}

func (v stableView) SetUint64(k []byte, val uint64) error {
	key := v.key(k)
	if cur, err := v.db.GetUint64(key); err == nil && cur == val {
		return nil
	}
	return v.db.SetUint64(key, val)
}

func (v stableView) Get(k []byte) ([]byte, error)       { return v.db.Get(v.key(k)) }
func (v stableView) GetUint64(k []byte) (uint64, error) { return v.db.GetUint64(v.key(k)) }
