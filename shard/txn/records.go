package txn

// Records of __transaction_state, in Kafka's own format so that tools that
// read the topic understand them:
//
//	key v0 (TxnMetadataKey {transactional id})
//	  value v0 (TxnMetadataValue {producer id, epoch, timeout, state,
//	  partitions, last update and start timestamps}), or v1 with the
//	  PreviousProducerID tag once the producer id was replaced because its
//	  epoch ran out.
//
// One record per state change; the last record of a key wins and a null
// value (never written by this package, which does not expire ids) deletes
// the id.

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

func txnKey(id string) []byte {
	k := kmsg.NewTxnMetadataKey()
	k.TransactionalID = id
	return k.AppendTo(nil)
}

func txnValue(m meta) []byte {
	v := kmsg.NewTxnMetadataValue()
	if m.prevPID >= 0 {
		v.Version = 1
		v.PreviousProducerID = m.prevPID
	}
	v.ProducerID, v.ProducerEpoch, v.TimeoutMillis, v.State = m.pid, m.epoch, m.timeoutMs, m.st
	v.LastUpdateTimestamp, v.StartTimestamp = m.updateMs, m.startMs
	for _, tp := range m.parts {
		if n := len(v.Topics); n == 0 || v.Topics[n-1].Topic != tp.Topic {
			t := kmsg.NewTxnMetadataValueTopic()
			t.Topic = tp.Topic
			v.Topics = append(v.Topics, t)
		}
		t := &v.Topics[len(v.Topics)-1]
		t.Partitions = append(t.Partitions, tp.Partition)
	}
	return v.AppendTo(nil)
}

func readValue(value []byte) (meta, bool) {
	var v kmsg.TxnMetadataValue
	if v.ReadFrom(value) != nil {
		return meta{}, false
	}
	m := meta{pid: v.ProducerID, epoch: v.ProducerEpoch, prevPID: v.PreviousProducerID, timeoutMs: v.TimeoutMillis,
		st: v.State, startMs: v.StartTimestamp, updateMs: v.LastUpdateTimestamp}
	var tps []TP
	for _, t := range v.Topics {
		for _, p := range t.Partitions {
			tps = append(tps, TP{t.Topic, p})
		}
	}
	m.parts = union(nil, tps)
	return m, true
}

// Load replays one record of the partition, in log order. Call before
// LoadDone and Start; records it does not understand are skipped.
func (p *Partition) Load(key, value []byte) {
	if len(key) < 2 || key[0] != 0 || key[1] != 0 {
		return // only key version 0 exists
	}
	var k kmsg.TxnMetadataKey
	if k.ReadFrom(key) != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if value == nil {
		delete(p.txns, k.TransactionalID)
		return
	}
	m, ok := readValue(value)
	if !ok {
		p.log.Warn("unreadable transaction state skipped", "transactional_id", k.TransactionalID)
		return
	}
	if m.st == stDead {
		delete(p.txns, k.TransactionalID)
		return
	}
	p.txns[k.TransactionalID] = &txn{id: k.TransactionalID, exists: true, m: m}
}

// LoadDone ends the replay: requests are served from now on (before, they
// answer COORDINATOR_LOAD_IN_PROGRESS).
func (p *Partition) LoadDone() {
	p.loaded.Store(true)
	p.mu.Lock()
	n := len(p.txns)
	p.mu.Unlock()
	p.log.Info("transaction state loaded", "transactional_ids", n)
}
