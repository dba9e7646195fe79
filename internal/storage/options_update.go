package storage

// Options of an open log. A topic's configs change at run time
// (AlterConfigs); the partition's log picks the change up here instead of
// being closed and reopened. Only the options read under mu change live:
// the others (write caching, compaction, delete.retention.ms,
// index.interval.bytes, preallocation, direct IO) are also read without
// the lock on the append and compaction paths, so they keep the values the
// log was opened with until it is next opened.

// Options returns the options the log runs with.
func (l *Log) Options() Options {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.opts
}

// SetOptions applies o's segment.bytes, segment.ms, retention.bytes,
// retention.ms, flush.ms and flush.bytes to the open log; the next append
// and the next EnforceRetention use them. It returns whether any of them
// changed, and whether o differs from the running options in one that
// only applies from the next Open. o must pass Validate; nothing changes
// otherwise. Safe to call from any goroutine; it takes mu briefly, no IO.
func (l *Log) SetOptions(o Options) (changed, atReopen bool, err error) {
	if err := o.Validate(); err != nil {
		return false, false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false, false, ErrClosed
	}
	// Field by field: the other fields are read without mu elsewhere, and
	// rewriting them (even with the same value) would be a data race.
	live := []struct{ cur, want *int64 }{
		{&l.opts.SegmentBytes, &o.SegmentBytes},
		{&l.opts.SegmentMs, &o.SegmentMs},
		{&l.opts.RetentionBytes, &o.RetentionBytes},
		{&l.opts.RetentionMs, &o.RetentionMs},
		{&l.opts.FlushMs, &o.FlushMs},
		{&l.opts.FlushBytes, &o.FlushBytes},
	}
	for _, f := range live {
		if *f.cur != *f.want {
			*f.cur = *f.want
			changed = true
		}
	}
	// With the live fields now equal, any remaining difference is in the
	// fields that wait for a reopen.
	atReopen = l.opts != o
	return changed, atReopen, nil
}
