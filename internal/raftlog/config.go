package raftlog

import (
	"errors"
	"fmt"

	"github.com/hashicorp/raft"
)

// CheckConfig reports the raft.Config settings a partition group must not
// use with a Store, all at once:
//   - TrailingLogs 0: compaction could then cover the whole log, which
//     DeleteRange cannot tell from a follower's conflict truncation (it
//     would cut Kafka data). Keep the default (10240) or any value >= 1.
//
// Also never call raft.RecoverCluster on a partition group: it ends with a
// whole-log DeleteRange, which truncates the partition's Kafka data.
func CheckConfig(c *raft.Config) error {
	var errs []error
	if c.TrailingLogs == 0 {
		errs = append(errs, fmt.Errorf("raft TrailingLogs 0: must be at least 1 with a partition log store"))
	}
	return errors.Join(errs...)
}
