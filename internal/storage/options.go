package storage

import (
	"errors"
	"fmt"
	"time"
)

// Options configure one partition log. Names follow Kafka's topic configs
// (segment.bytes, retention.ms, ...) and Redpanda's where Kafka has none.
type Options struct {
	// SegmentBytes rolls the active segment once it holds this many bytes
	// (segment.bytes). A batch is never split: a segment may exceed it by one
	// batch.
	SegmentBytes int64
	// SegmentMs rolls the active segment once its first batch is this old
	// (segment.ms). 0 disables age-based rolling.
	SegmentMs int64
	// IndexIntervalBytes is the distance between sparse index entries
	// (index.interval.bytes).
	IndexIntervalBytes int64
	// PreallocBytes is the largest step by which the active segment file is
	// preallocated with fallocate (steps start at 256 KiB and double with
	// the file); 0 disables preallocation.
	PreallocBytes int64
	// Direct writes the active segment with O_DIRECT through an aligned tail
	// buffer instead of buffered writes. Reads are correct either way.
	Direct bool

	// WriteCaching acknowledges appends once written to the page cache
	// (Redpanda's write.caching). The log is then flushed when FlushMs has
	// passed or FlushBytes are unflushed. Default false: every append is
	// durable (fdatasync'd) before it returns.
	WriteCaching bool
	FlushMs      int64 // flush.ms, with WriteCaching
	FlushBytes   int64 // flush.bytes, with WriteCaching

	// RetentionBytes bounds the log's size (retention.bytes); -1 is unlimited.
	RetentionBytes int64
	// RetentionMs deletes segments whose newest record is older (retention.ms);
	// -1 is unlimited.
	RetentionMs int64
	// Compact keeps only the newest record per key in closed segments
	// (cleanup.policy=compact).
	Compact bool
	// DeleteRetentionMs keeps tombstones this long after compaction first saw
	// them (delete.retention.ms).
	DeleteRetentionMs int64
}

// DefaultOptions are Kafka's and Redpanda's topic defaults.
func DefaultOptions() Options {
	return Options{
		SegmentBytes:       128 << 20,
		SegmentMs:          0,
		IndexIntervalBytes: 4096,
		PreallocBytes:      32 << 20,
		FlushMs:            100,
		FlushBytes:         256 << 10,
		RetentionBytes:     -1,
		RetentionMs:        7 * 24 * time.Hour.Milliseconds(),
		DeleteRetentionMs:  24 * time.Hour.Milliseconds(),
	}
}

// Validate reports every problem at once.
func (o Options) Validate() error {
	var errs []error
	if o.SegmentBytes < 1<<10 || o.SegmentBytes > 1<<31-1 {
		errs = append(errs, fmt.Errorf("segment.bytes %d: must be between 1 KiB and 2 GiB", o.SegmentBytes))
	}
	if o.SegmentMs < 0 {
		errs = append(errs, fmt.Errorf("segment.ms %d: must not be negative", o.SegmentMs))
	}
	if o.IndexIntervalBytes < 0 {
		errs = append(errs, fmt.Errorf("index.interval.bytes %d: must not be negative", o.IndexIntervalBytes))
	}
	if o.PreallocBytes < 0 {
		errs = append(errs, fmt.Errorf("preallocation %d: must not be negative", o.PreallocBytes))
	}
	if o.WriteCaching && (o.FlushMs <= 0 || o.FlushBytes <= 0) {
		errs = append(errs, fmt.Errorf("write caching needs positive flush.ms and flush.bytes, got %d and %d", o.FlushMs, o.FlushBytes))
	}
	if o.RetentionBytes < -1 {
		errs = append(errs, fmt.Errorf("retention.bytes %d: must be -1 or more", o.RetentionBytes))
	}
	if o.RetentionMs < -1 {
		errs = append(errs, fmt.Errorf("retention.ms %d: must be -1 or more", o.RetentionMs))
	}
	if o.DeleteRetentionMs < 0 {
		errs = append(errs, fmt.Errorf("delete.retention.ms %d: must not be negative", o.DeleteRetentionMs))
	}
	return errors.Join(errs...)
}
