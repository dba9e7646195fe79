package shard

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/batch/batchtest"
	"github.com/ailurus/ailurus/internal/storage"
)

// TestEpochEnd checks OffsetForLeaderEpoch's answers on a log written in
// epochs 0 (offsets 0-5), 2 (6-8) and 5 (9-11), epoch 5 being current.
func TestEpochEnd(t *testing.T) {
	l, err := storage.Open(t.TempDir(), storage.DefaultOptions(), storage.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, term := range []int32{0, 0, 2, 5} {
		if _, err := l.Append(term, batchtest.Values(1, 3, 10)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		current, requested int32
		code               int16
		epoch              int32
		end                int64
	}{
		{-1, 5, 0, 5, 12},  // current epoch: the log end
		{5, 5, 0, 5, 12},   // with a matching current epoch
		{-1, 0, 0, 0, 6},   // ends where epoch 2 starts
		{-1, 1, 0, 0, 6},   // no records in 1: answered with 0
		{-1, 3, 0, 2, 9},   // no records in 3 or 4: answered with 2, ends where 5 starts
		{-1, 6, 0, -1, -1}, // newer than ours: unknown
		{-1, -1, 0, -1, -1},
		{6, 5, kerr.UnknownLeaderEpoch.Code, -1, -1},
		{4, 5, kerr.FencedLeaderEpoch.Code, -1, -1},
	} {
		rp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
		rp.LeaderEpoch, rp.EndOffset = -1, -1
		epochEnd(l, 5, c.current, c.requested, &rp)
		if rp.ErrorCode != c.code || rp.LeaderEpoch != c.epoch || rp.EndOffset != c.end {
			t.Errorf("current %d requested %d: code %d epoch %d end %d, want %d %d %d",
				c.current, c.requested, rp.ErrorCode, rp.LeaderEpoch, rp.EndOffset, c.code, c.epoch, c.end)
		}
	}
}
