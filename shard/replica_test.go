package shard

import (
	"context"
	"testing"
	"time"
)

// TestReplicaBootstrapInterrupted: hashicorp/raft's BootstrapCluster stores
// the term before the configuration entry, so a shard killed between the two
// leaves a group with a term and no log. Such a partition must still elect
// itself and take writes when it opens again, not wait forever for a
// configuration it will never get.
func TestReplicaBootstrapInterrupted(t *testing.T) {
	s := testShardWith(t, func(s *Shard) {
		st, err := s.parts.stable.Group("t/0/1")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.SetUint64([]byte("CurrentTerm"), 1); err != nil {
			t.Fatal(err)
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Second)
	defer cancel()
	p := s.parts.await(ctx, "t", 0)
	if p == nil {
		t.Fatal("partition t/0 did not become leader after an interrupted bootstrap")
	}
	if r := p.commit(p.write(idempotentBatch(7, 0, 0, 2))); r.errCode != 0 || r.base != 0 {
		t.Fatalf("produce after an interrupted bootstrap: %+v", r)
	}
}
