package txn

// DescribeTransactions (key 65) and ListTransactions (key 66) for the ids of
// this partition. The caller merges partitions: Describe answers one id,
// List the ids passing the filters.

import (
	"regexp"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Describe is the state of one transactional id: NOT_COORDINATOR after
// Close, COORDINATOR_LOAD_IN_PROGRESS before LoadDone,
// TRANSACTIONAL_ID_NOT_FOUND for an unknown id.
func (p *Partition) Describe(id string) kmsg.DescribeTransactionsResponseTransactionState {
	d := kmsg.NewDescribeTransactionsResponseTransactionState()
	d.TransactionalID = id
	d.ProducerID, d.ProducerEpoch = -1, -1
	t, code := p.get(id, false)
	if code != 0 {
		d.ErrorCode = code
		return d
	}
	if t == nil {
		d.ErrorCode = codeTransactionalIDNotFound
		return d
	}
	defer t.lk.Unlock()
	if !t.exists {
		d.ErrorCode = codeTransactionalIDNotFound
		return d
	}
	m := t.m
	d.State, d.TimeoutMillis, d.StartTimestamp = m.st.String(), m.timeoutMs, m.startMs
	d.ProducerID, d.ProducerEpoch = m.pid, m.epoch
	for _, tp := range m.parts {
		if n := len(d.Topics); n == 0 || d.Topics[n-1].Topic != tp.Topic {
			dt := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
			dt.Topic = tp.Topic
			d.Topics = append(d.Topics, dt)
		}
		dt := &d.Topics[len(d.Topics)-1]
		dt.Partitions = append(dt.Partitions, tp.Partition)
	}
	return d
}

// List is the transactional ids passing the request's filters, sorted by
// id: states (Kafka's names, none: all), producer ids (none: all),
// DurationFilterMillis (v1+, >= 0: only transactions started at least
// that long ago) and TransactionalIDPattern (v2+, a Go regexp; "" or nil:
// all). It is nil when closed, before LoadDone or when the pattern does not
// compile: the caller answers NOT_COORDINATOR (Closed),
// COORDINATOR_LOAD_IN_PROGRESS or INVALID_REGULAR_EXPRESSION.
func (p *Partition) List(req *kmsg.ListTransactionsRequest) []kmsg.ListTransactionsResponseTransactionState {
	if p.closed.Load() || !p.loaded.Load() {
		return nil
	}
	var re *regexp.Regexp
	if req.TransactionalIDPattern != nil && *req.TransactionalIDPattern != "" {
		var err error
		if re, err = regexp.Compile(*req.TransactionalIDPattern); err != nil {
			return nil
		}
	}
	now := p.nowMs()
	var out []kmsg.ListTransactionsResponseTransactionState
	for _, t := range p.snapshot() {
		t.lk.Lock()
		m, exists := t.m, t.exists
		t.lk.Unlock()
		switch {
		case !exists,
			len(req.StateFilters) > 0 && !slices.Contains(req.StateFilters, m.st.String()),
			len(req.ProducerIDFilters) > 0 && !slices.Contains(req.ProducerIDFilters, m.pid),
			req.Version >= 1 && req.DurationFilterMillis >= 0 && (m.startMs < 0 || now-m.startMs < req.DurationFilterMillis),
			re != nil && !re.MatchString(t.id):
			continue
		}
		s := kmsg.NewListTransactionsResponseTransactionState()
		s.TransactionalID, s.ProducerID, s.TransactionState = t.id, m.pid, m.st.String()
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b kmsg.ListTransactionsResponseTransactionState) int {
		return strings.Compare(a.TransactionalID, b.TransactionalID)
	})
	return out
}
