package group

// Committed offsets expire (Kafka's offsets.retention.minutes, KIP-211 and
// KIP-496) so that groups that are gone do not keep their offsets forever:
//   - a group that ran a protocol (classic or KIP-848) keeps its offsets
//     while it has members; once empty, all of them expire together
//     OffsetRetention after it became empty (and after its last commit);
//   - a group that only stores offsets (standalone consumers, tools)
//     loses each offset OffsetRetention after it was committed.
// Expired offsets get tombstones in the partition; a group left with
// nothing is deleted as DeleteGroups would. Offsets pending in an open
// transaction are left alone.

import (
	"context"
	"time"
)

// expireOffsets runs one expiry pass over the partition's groups.
func (p *Partition) expireOffsets(ctx context.Context, now time.Time) {
	if p.cfg.OffsetRetention <= 0 {
		return
	}
	for _, g := range p.list() {
		p.lockGroup(g)
		g.expire(ctx, now, p.cfg.OffsetRetention)
		g.mu().Unlock()
	}
}

// expire (g locked) drops g's expired offsets.
func (g *Group) expire(ctx context.Context, now time.Time, retention time.Duration) {
	if g.st == stateDead || len(g.members) > 0 || (g.cg != nil && len(g.cg.members) > 0) || len(g.txn) > 0 {
		return
	}
	protocol := g.protocolType != "" || g.cg != nil
	var last int64 // the newest commit
	for _, ps := range g.offsets {
		for _, c := range ps {
			last = max(last, c.commitTime)
		}
	}
	emptySince := max(g.stateSince.UnixMilli(), last)
	type key struct {
		topic string
		p     int32
	}
	var gone []key
	var recs []Record
	for t, ps := range g.offsets {
		for pn, c := range ps {
			since := c.commitTime
			if protocol {
				since = emptySince
			}
			if now.Sub(time.UnixMilli(since)) > retention {
				gone = append(gone, key{t, pn})
				recs = append(recs, Record{Key: offsetKey(g.id, t, pn)})
			}
		}
	}
	if len(gone) == 0 {
		return
	}
	whole := len(gone) == countOffsets(g.offsets)
	if whole {
		recs = append(recs, g.groupTombstones()...)
	}
	if code := g.append(ctx, recs); code != 0 {
		return // tried again at the next pass
	}
	for _, k := range gone {
		delete(g.offsets[k.topic], k.p)
		if len(g.offsets[k.topic]) == 0 {
			delete(g.offsets, k.topic)
		}
	}
	g.p.log.Info("committed offsets expired", "group", g.id, "offsets", len(gone), "group_deleted", whole)
	if whole {
		g.st = stateDead
		g.p.remove(g)
	}
}

func countOffsets(o map[string]map[int32]committed) int {
	n := 0
	for _, ps := range o {
		n += len(ps)
	}
	return n
}
