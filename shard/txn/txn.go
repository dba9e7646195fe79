// Package txn is the transaction coordinator (KIP-98) of one partition of
// __transaction_state: it hands out producer ids and epochs to
// transactional producers (InitProducerId, with KIP-360 recovery and
// KIP-588 PRODUCER_FENCED), tracks the partitions of each transaction
// (AddPartitionsToTxn, AddOffsetsToTxn), decides commits and aborts
// (EndTxn), writes the COMMIT/ABORT markers through Markers, and aborts
// transactions that outlive their timeout. It knows nothing of the network
// or of Raft: the shard hands it decoded requests, a Log to make its
// records durable and a Markers to write control batches, and feeds it the
// partition's records on load.
//
// Ownership: a Partition owns its map of transactional ids (Partition.mu);
// each id's state is owned by its txn under txn.lk. Lock order: txn.lk, then
// Partition.mu; Partition.mu is never held while taking a txn.lk nor across
// a Log or Markers call. txn.lk is held across the Log write of the id's
// record (the log stays in the order of the in-memory changes) but released
// while markers are written: meanwhile the id sits in PrepareCommit or
// PrepareAbort and other requests for it answer CONCURRENT_TRANSACTIONS.
package txn

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Topic is the internal topic holding transaction state.
const Topic = "__transaction_state"

// offsetsTopic is where AddOffsetsToTxn's partition lives.
const offsetsTopic = "__consumer_offsets"

// Record is one record of the coordinator's partition: a Kafka
// __transaction_state key and value (nil value: a tombstone).
type Record struct{ Key, Value []byte }

// Log makes records durable in the coordinator's partition. Append is called
// from request goroutines and from the Partition's own goroutines with one
// transactional id's lock held, and blocks until the records are committed
// and fsynced, or fail; it must not call back into the Partition. The
// context is cancelled by Close.
type Log interface {
	Append(ctx context.Context, recs []Record) error
}

// ErrNotCoordinator is returned by a Log that lost the partition; requests
// then answer NOT_COORDINATOR so the client looks the coordinator up again.
var ErrNotCoordinator = errors.New("not the coordinator")

// TP is a topic partition taking part in a transaction.
type TP struct {
	Topic     string
	Partition int32
}

// Markers writes transaction markers. WriteMarkers is called without any
// Partition lock held, from request goroutines (EndTxn, InitProducerId) and
// from the Partition's retry goroutines; it blocks until a COMMIT
// (commit=true) or ABORT control batch for producer pid/epoch is durable in
// every partition of tps (partitions that no longer exist count as done), or
// fails. It may be called again for the same transaction after a failure or
// a coordinator restart, so writing a marker twice must be harmless. The
// context is cancelled by Close.
type Markers interface {
	WriteMarkers(ctx context.Context, pid int64, epoch int16, commit bool, coordinatorEpoch int32, tps []TP) error
}

// Config shapes a Partition. Log, Markers and NextPID are required.
type Config struct {
	Log     Log
	Markers Markers
	Logger  *slog.Logger     // nil: slog.Default()
	Now     func() time.Time // nil: time.Now
	// NextPID hands out a fresh producer id, unique cluster-wide.
	NextPID func() (int64, error)
	// MaxTimeout is transaction.max.timeout.ms: InitProducerId asking for a
	// longer timeout answers INVALID_TRANSACTION_TIMEOUT. 0: 15 minutes.
	MaxTimeout time.Duration
	// ValidPartition says whether a topic partition exists, for
	// AddPartitionsToTxn; nil accepts every partition.
	ValidPartition func(topic string, partition int32) bool
	// GroupPartition is the __consumer_offsets partition of a group, for
	// AddOffsetsToTxn; nil puts every group in partition 0.
	GroupPartition func(group string) int32
	// CoordinatorEpoch is written into the markers.
	CoordinatorEpoch int32
	// TickInterval is how often Start's loop looks for timed-out
	// transactions. 0: 1 second.
	TickInterval time.Duration
}

// Error codes answered, as Kafka defines them.
var (
	codeNotCoordinator          = kerr.NotCoordinator.Code
	codeCoordinatorNotAvail     = kerr.CoordinatorNotAvailable.Code
	codeLoadInProgress          = kerr.CoordinatorLoadInProgress.Code
	codeInvalidRequest          = kerr.InvalidRequest.Code
	codeInvalidTxnTimeout       = kerr.InvalidTransactionTimeout.Code
	codeConcurrentTransactions  = kerr.ConcurrentTransactions.Code
	codeProducerFenced          = kerr.ProducerFenced.Code
	codeInvalidProducerEpoch    = kerr.InvalidProducerEpoch.Code
	codeInvalidProducerIDMap    = kerr.InvalidProducerIDMapping.Code
	codeInvalidTxnState         = kerr.InvalidTxnState.Code
	codeUnknownTopicPartition   = kerr.UnknownTopicOrPartition.Code
	codeOperationNotAttempted   = kerr.OperationNotAttempted.Code
	codeTransactionalIDNotFound = kerr.TransactionalIDNotFound.Code
	codeUnsupportedVersion      = kerr.UnsupportedVersion.Code
)

// fencedCode is the error for a stale producer epoch: PRODUCER_FENCED
// (KIP-588), or INVALID_PRODUCER_EPOCH for request versions older than
// KIP-588 whose clients do not know PRODUCER_FENCED (as Kafka does).
func fencedCode(preKIP588 bool) int16 {
	if preKIP588 {
		return codeInvalidProducerEpoch
	}
	return codeProducerFenced
}
