package admin

import "net/http"

// GET /v1/partitions: the partition replicas placed on this node, as
// Redpanda's partition_summary (admin/api-doc/partition.json): namespace
// (always "kafka": Ailurus has no kafka_internal topics), topic, partition,
// the shard (core) holding the replica, and the leader's node id (-1 if
// none). The leader is the controller's view, the one Metadata answers
// with. materialized is always false (Redpanda uses it for materialized
// topics, which Ailurus does not have). Sorted by topic, then partition.

// partitionSummary is one entry of /v1/partitions.
type partitionSummary struct {
	NS           string `json:"ns"`
	Topic        string `json:"topic"`
	PartitionID  int32  `json:"partition_id"`
	Core         int    `json:"core"`
	Materialized bool   `json:"materialized"`
	Leader       int32  `json:"leader"`
}

func (s *Server) getPartitions(w http.ResponseWriter, _ *http.Request) {
	st := s.cfg.Cluster.State()
	out := []partitionSummary{}
	for _, name := range st.TopicNames() {
		t := st.Topics[name]
		for _, p := range t.Partitions {
			for _, r := range p.Replicas {
				if r.NodeID != s.cfg.NodeID {
					continue
				}
				out = append(out, partitionSummary{
					NS:          "kafka",
					Topic:       t.Name,
					PartitionID: p.ID,
					Core:        r.Shard,
					Leader:      p.Leader.NodeID,
				})
			}
		}
	}
	s.writeJSON(w, http.StatusOK, out)
}
