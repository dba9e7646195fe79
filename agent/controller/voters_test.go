package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/metadata"
	"github.com/ailurus/ailurus/internal/testkit"
)

// TestControllerSecondVoterFollows adds a second node to the voter set and
// checks that it receives the metadata, before and after joining.
func TestControllerSecondVoterFollows(t *testing.T) {
	n1 := runNode(t, testConfig(t, 1), true)
	n1.mustCreate("before-join", 3, nil)

	cfg2 := testConfig(t, 2)
	cfg2.Bootstrap = false
	n2 := runNode(t, cfg2, false)
	t1 := n1.cfg.Transport.(*raft.InmemTransport)
	t2 := n2.cfg.Transport.(*raft.InmemTransport)
	t1.Connect(t2.LocalAddr(), t2)
	t2.Connect(t1.LocalAddr(), t1)

	if err := n1.c.AddVoter(ctxT(t), 2, t2.LocalAddr()); err != nil {
		t.Fatalf("AddVoter: %v", err)
	}
	voters, err := n1.c.Voters()
	if err != nil || len(voters) != 2 || voters[2] != t2.LocalAddr() {
		t.Fatalf("voters = %v, %v", voters, err)
	}
	created := n1.mustCreate("after-join", 1, nil)

	testkit.CheckFor(t, 5*time.Second, func() error {
		if v1, v2 := n1.c.State().Version, n2.c.State().Version; v1 != v2 {
			return fmt.Errorf("node 2 has not applied node 1's state: version %d, node 1 %d", v2, v1)
		}
		return nil
	})
	got, ok := n2.c.State().Topic("after-join")
	if !ok || got.ID != created.ID || got.Revision != created.Revision {
		t.Errorf("node 2 has %+v, want id %s rev %d", got, created.ID, created.Revision)
	}
	if _, ok := n2.c.State().Topic("before-join"); !ok {
		t.Error("node 2 lacks the topic created before it joined")
	}
	if id, ok := n2.c.Leader(); !ok || id != 1 {
		t.Errorf("node 2 sees leader %d, %v; want 1", id, ok)
	}
	if _, err := n2.c.CreateTopic(ctxT(t), CreateTopicRequest{Name: "x", Partitions: 1, ReplicationFactor: 1}); ErrorCode(err) != 41 {
		t.Errorf("write on the follower: %v, want NOT_CONTROLLER", err)
	}
	var last uint64
	for _, ch := range n2.changes.get() {
		if ch.Kind != metadata.ChangeStateReset && ch.Version != last+1 {
			t.Fatalf("node 2 changes %v have a gap", versions(n2.changes.get()))
		}
		last = ch.Version
	}
}
