package txn

import (
	"cmp"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Kafka's transaction states (kmsg.TransactionState's String gives the
// names Describe and List show). PrepareEpochFence is never written: an
// epoch fence is written directly as PrepareAbort with the bumped epoch.
const (
	stEmpty          = kmsg.TransactionStateEmpty
	stOngoing        = kmsg.TransactionStateOngoing
	stPrepareCommit  = kmsg.TransactionStatePrepareCommit
	stPrepareAbort   = kmsg.TransactionStatePrepareAbort
	stCompleteCommit = kmsg.TransactionStateCompleteCommit
	stCompleteAbort  = kmsg.TransactionStateCompleteAbort
	stDead           = kmsg.TransactionStateDead
)

func prepared(s kmsg.TransactionState) bool { return s == stPrepareCommit || s == stPrepareAbort }

// meta is the durable state of one transactional id: exactly what its
// __transaction_state record holds. Transitions build a new meta, write it,
// and only then install it (Partition.write).
type meta struct {
	pid   int64
	epoch int16
	// prevPID is the producer id replaced when the epoch ran out; the
	// producer may still present it to InitProducerId (KIP-360). -1: none.
	prevPID   int64
	timeoutMs int32
	st        kmsg.TransactionState
	parts     []TP  // sorted, unique; empty outside Ongoing and Prepare*
	startMs   int64 // start of the current (or last) transaction, unix ms; -1: none yet
	updateMs  int64 // last change, unix ms
}

func (m meta) clone() meta {
	m.parts = slices.Clone(m.parts)
	return m
}

// has says whether every tp is already part of the transaction.
func (m meta) has(tps []TP) bool {
	for _, tp := range tps {
		if _, ok := slices.BinarySearchFunc(m.parts, tp, cmpTP); !ok {
			return false
		}
	}
	return true
}

// union is parts plus tps, sorted and unique.
func union(parts, tps []TP) []TP {
	out := append(slices.Clone(parts), tps...)
	slices.SortFunc(out, cmpTP)
	return slices.Compact(out)
}

func cmpTP(a, b TP) int {
	if c := cmp.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	return cmp.Compare(a.Partition, b.Partition)
}

// txn is one transactional id. Its fields are guarded by lk.
type txn struct {
	lk sync.Mutex
	id string
	// exists is set once a record of the id is durable; an entry created by
	// an InitProducerId whose write failed stays invisible.
	exists bool
	m      meta
	// finishing is set while a goroutine writes the markers of the
	// Prepare* transaction (lk released meanwhile); nobody else changes m.
	finishing bool
	// retrying is set while a retry goroutine (Partition.finishLater) owns
	// the completion of the Prepare* transaction.
	retrying bool
	// lastInit is the producer id and epoch presented by the InitProducerId
	// that produced the current epoch: the same request again is a retry
	// and gets the same answer. Cleared by every other change; not durable.
	lastInit struct {
		ok    bool
		pid   int64
		epoch int16
	}
}
