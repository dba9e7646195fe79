package shard

// DescribeLogDirs v0-v4: one log dir, the node's data directory, with every
// partition this node holds (all of them, or those asked for) and its size
// in bytes. Partitions live on every shard of the node: the shard asked
// lists its own and forwards the request to each other shard, which lists
// its own, and merges the answers; if a shard does not answer the dir
// carries KAFKA_STORAGE_ERROR rather than a silently short list. v4 adds
// the file system's total and usable bytes (statfs; -1 if unknown). Offset
// lag is 0 (a single replica is never behind itself).

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/sys/unix"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.DescribeLogDirs, 0, 4, handleDescribeLogDirs) }

func handleDescribeLogDirs(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DescribeLogDirsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	dir := kmsg.NewDescribeLogDirsResponseDir()
	dir.Dir = s.cfg.DataDir
	dir.TotalBytes, dir.UsableBytes = diskBytes(s.cfg.DataDir)
	topics := s.localLogDirTopics(req)
	if !isInternal(ctx) {
		shards := 1
		if b, ok := s.cfg.Catalog.State().Broker(s.cfg.NodeID); ok {
			shards = b.Shards
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range shards {
			if i == s.cfg.ID {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				kr, err := s.fwd.call(ctx, i, req)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					s.log.Warn("describe log dirs: shard did not answer", "to", i, "err", err)
					dir.ErrorCode = kerr.KafkaStorageError.Code
					return
				}
				for _, d := range kr.(*kmsg.DescribeLogDirsResponse).Dirs {
					if d.ErrorCode != 0 {
						dir.ErrorCode = d.ErrorCode
					}
					topics = append(topics, d.Topics...)
				}
			}()
		}
		wg.Wait()
	}
	dir.Topics = mergeLogDirTopics(topics)
	resp.Dirs = append(resp.Dirs, dir)
	return resp, nil
}

// localLogDirTopics lists the open partitions of this shard that req asks
// for (all when req.Topics is null), one entry per partition.
func (s *Shard) localLogDirTopics(req *kmsg.DescribeLogDirsRequest) []kmsg.DescribeLogDirsResponseDirTopic {
	var want map[tp]bool
	if req.Topics != nil {
		want = map[tp]bool{}
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				want[tp{t.Topic, p}] = true
			}
		}
	}
	s.parts.mu.RLock()
	parts := make([]*partition, 0, len(s.parts.open))
	for k, p := range s.parts.open {
		if want == nil || want[k] {
			parts = append(parts, p)
		}
	}
	s.parts.mu.RUnlock()
	out := make([]kmsg.DescribeLogDirsResponseDirTopic, 0, len(parts))
	for _, p := range parts {
		rp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
		rp.Partition, rp.Size = p.id, p.log.Size()
		rt := kmsg.NewDescribeLogDirsResponseDirTopic()
		rt.Topic = p.topic
		rt.Partitions = []kmsg.DescribeLogDirsResponseDirTopicPartition{rp}
		out = append(out, rt)
	}
	return out
}

// mergeLogDirTopics groups partitions by topic, both sorted.
func mergeLogDirTopics(in []kmsg.DescribeLogDirsResponseDirTopic) []kmsg.DescribeLogDirsResponseDirTopic {
	slices.SortFunc(in, func(a, b kmsg.DescribeLogDirsResponseDirTopic) int { return cmp.Compare(a.Topic, b.Topic) })
	var out []kmsg.DescribeLogDirsResponseDirTopic
	for _, t := range in {
		if n := len(out); n > 0 && out[n-1].Topic == t.Topic {
			out[n-1].Partitions = append(out[n-1].Partitions, t.Partitions...)
			continue
		}
		out = append(out, t)
	}
	for i := range out {
		slices.SortFunc(out[i].Partitions, func(a, b kmsg.DescribeLogDirsResponseDirTopicPartition) int {
			return cmp.Compare(a.Partition, b.Partition)
		})
	}
	return out
}

// diskBytes is the size and the space available to us of the file system
// holding dir; -1, -1 if it cannot be read.
func diskBytes(dir string) (total, usable int64) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return -1, -1
	}
	return int64(st.Blocks) * int64(st.Bsize), int64(st.Bavail) * int64(st.Bsize)
}
