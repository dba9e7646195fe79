package shard

import (
	"context"
	"time"
)

// housekeep runs retention (retention.bytes, retention.ms: whole closed
// segments below the high watermark) and, for cleanup.policy=compact,
// compaction, on every open partition, one at a time, until ctx ends. The
// pace is the cluster property log_compaction_interval_ms (default 10 s),
// read each round so a change applies at once.
func (s *Shard) housekeep(ctx context.Context) {
	for {
		every := s.cfg.Catalog.State().ClusterConfig.Int("log_compaction_interval_ms", 10000)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(every) * time.Millisecond):
		}
		for _, p := range s.parts.all() {
			if ctx.Err() != nil {
				return
			}
			now := time.Now()
			if n, err := p.log.EnforceRetention(now); err != nil {
				s.log.Warn("retention failed", "topic", p.topic, "partition", p.id, "err", err)
			} else if n > 0 {
				s.log.Info("retention removed segments", "topic", p.topic, "partition", p.id, "segments", n, "start_offset", p.log.StartOffset())
			}
			p.trimAborted(p.log.StartOffset())
			if p.log.Options().Compact {
				if st, err := p.log.Compact(ctx, now); err != nil && ctx.Err() == nil {
					s.log.Warn("compaction failed", "topic", p.topic, "partition", p.id, "err", err)
				} else if st.SegmentsRewritten > 0 {
					s.log.Info("compacted", "topic", p.topic, "partition", p.id, "segments", st.SegmentsRewritten,
						"bytes_before", st.BytesBefore, "bytes_after", st.BytesAfter)
				}
			}
		}
	}
}
