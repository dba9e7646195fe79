package shard

import (
	"context"

	"github.com/ailurus/ailurus/internal/metadata"
	"github.com/ailurus/ailurus/internal/storage"
)

// followLogOptions keeps the open partitions' logs in line with their
// topic's configs and the cluster defaults until ctx ends: after every
// metadata change it derives each open partition's options again
// (logOptions) and hands the changed ones to the log. Segment and retention
// settings apply at once; the others (write.caching, cleanup.policy,
// delete.retention.ms, index.interval.bytes) from the partition's next
// open (storage.Log.SetOptions says why). It only reads the set of open
// partitions; follow owns opening and closing them, and a log closed
// under it just refuses the change.
func (ps *partitions) followLogOptions(ctx context.Context) {
	pushed := map[*partition]storage.Options{}
	failed := map[string]*metadata.Topic{} // topics whose configs were refused, as last logged
	for {
		ch := ps.s.cfg.Catalog.Updated()
		ps.openMu.Lock()
		opened := ps.openCh // closed after each reconcile
		ps.openMu.Unlock()
		pushed = ps.applyLogOptions(pushed, failed)
		// Also after partitions open: reconcile opens them with the state it
		// read when it started, which a config change may since have passed.
		select {
		case <-ctx.Done():
			return
		case <-ch:
		case <-opened:
		}
	}
}

// applyLogOptions makes one pass and returns the options now given to each
// open partition (pushed, without the partitions that are gone).
func (ps *partitions) applyLogOptions(pushed map[*partition]storage.Options, failed map[string]*metadata.Topic) map[*partition]storage.Options {
	st := ps.s.cfg.Catalog.State()
	ps.mu.RLock()
	open := make([]*partition, 0, len(ps.open))
	for _, p := range ps.open {
		open = append(open, p)
	}
	ps.mu.RUnlock()
	type derived struct {
		o   storage.Options
		err error
	}
	byTopic := map[string]derived{}
	next := make(map[*partition]storage.Options, len(open))
	for _, p := range open {
		t, ok := st.Topic(p.topic)
		if !ok || t.Revision != p.revision {
			continue // being closed by follow
		}
		d, ok := byTopic[t.Name]
		if !ok {
			d.o, d.err = logOptions(st.ClusterConfig, t.Configs)
			byTopic[t.Name] = d
			switch {
			case d.err == nil:
				delete(failed, t.Name)
			case failed[t.Name] != t: // log each refused version of the configs once
				failed[t.Name] = t
				ps.s.log.Warn("topic configs refused by the partition log; keeping the current options",
					"topic", t.Name, "err", d.err)
			}
		}
		prev, had := pushed[p]
		if d.err != nil || had && prev == d.o {
			if had {
				next[p] = prev
			}
			continue
		}
		changed, atReopen, err := p.log.SetOptions(d.o)
		if err != nil {
			continue // closed under us, or refused: tried again at the next change
		}
		next[p] = d.o
		if changed || atReopen {
			ps.s.log.Info("partition log options changed", "topic", p.topic, "partition", p.id,
				"segment_bytes", d.o.SegmentBytes, "segment_ms", d.o.SegmentMs,
				"retention_bytes", d.o.RetentionBytes, "retention_ms", d.o.RetentionMs,
				"others_at_next_open", atReopen)
		}
	}
	for name := range failed {
		if _, ok := st.Topic(name); !ok {
			delete(failed, name)
		}
	}
	return next
}
