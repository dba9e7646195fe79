package raftlog

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func TestRaftlogSharedStableNamespacesGroups(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	s, err := OpenSharedStable(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// "ab"+"c" and "a"+"bc" must not meet in the shared file.
	views := map[string]raft.StableStore{}
	for _, id := range []string{"ab", "a", "kafka/orders/3"} {
		if views[id], err = s.Group(id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Group(""); err == nil {
		t.Fatal("empty group id accepted")
	}
	if err := views["ab"].SetUint64([]byte("c"), 7); err != nil {
		t.Fatal(err)
	}
	if err := views["a"].SetUint64([]byte("bc"), 9); err != nil {
		t.Fatal(err)
	}
	if err := views["kafka/orders/3"].Set([]byte("LastVoteCand"), []byte("n2")); err != nil {
		t.Fatal(err)
	}
	// raft.NewRaft treats exactly the error text "not found" as "no term yet".
	if _, err := views["a"].GetUint64([]byte("CurrentTerm")); err == nil || err.Error() != "not found" {
		t.Fatalf("missing key: %v, want \"not found\"", err)
	}
	if _, err := views["ab"].Get([]byte("LastVoteCand")); err == nil || err.Error() != "not found" {
		t.Fatalf("other group's key visible: %v", err)
	}
	// Everything survives a reopen of the file.
	s = reopenStable(t, s, path)
	defer s.Close()
	ab, _ := s.Group("ab")
	a, _ := s.Group("a")
	k, _ := s.Group("kafka/orders/3")
	if v, err := ab.GetUint64([]byte("c")); err != nil || v != 7 {
		t.Fatalf("ab/c = %d %v, want 7", v, err)
	}
	if v, err := a.GetUint64([]byte("bc")); err != nil || v != 9 {
		t.Fatalf("a/bc = %d %v, want 9", v, err)
	}
	if v, err := k.Get([]byte("LastVoteCand")); err != nil || !bytes.Equal(v, []byte("n2")) {
		t.Fatalf("vote = %q %v", v, err)
	}
	// A second process (here: a second open) cannot take the file.
	if _, err := OpenSharedStable(path, 50*time.Millisecond); err == nil {
		t.Fatal("second open of a held bolt file succeeded")
	}
}

// TestRaftlogSharedStableSkipsUnchanged checks that writing the value a key
// already holds commits nothing (hashicorp/raft rewrites its term and vote
// unchanged on every start), while a changed or new value is committed and
// reads back, also after the file is reopened.
func TestRaftlogSharedStableSkipsUnchanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	s, err := OpenSharedStable(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Group("kafka/orders/3")
	if err != nil {
		t.Fatal(err)
	}
	writes := func() int { return s.db.Stats().TxStats.Write }
	step := func(what string, set func() error, wantCommit bool) {
		t.Helper()
		before := writes()
		if err := set(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if committed := writes() > before; committed != wantCommit {
			t.Fatalf("%s: committed %v, want %v", what, committed, wantCommit)
		}
	}
	term, cand := []byte("CurrentTerm"), []byte("LastVoteCand")
	step("first term", func() error { return v.SetUint64(term, 0) }, true)
	step("same term", func() error { return v.SetUint64(term, 0) }, false)
	step("next term", func() error { return v.SetUint64(term, 1) }, true)
	step("first vote", func() error { return v.Set(cand, []byte("1")) }, true)
	step("same vote", func() error { return v.Set(cand, []byte("1")) }, false)
	step("other vote", func() error { return v.Set(cand, []byte("2")) }, true)
	step("empty vote", func() error { return v.Set(cand, nil) }, true)
	s = reopenStable(t, s, path)
	defer s.Close()
	v, _ = s.Group("kafka/orders/3")
	if got, err := v.GetUint64(term); err != nil || got != 1 {
		t.Fatalf("term after reopen: %d, %v; want 1", got, err)
	}
	if got, err := v.Get(cand); err != nil || len(got) != 0 {
		t.Fatalf("vote after reopen: %q, %v; want empty", got, err)
	}
}

// reopenStable closes s and opens the bolt file at path again.
func reopenStable(t *testing.T, s *SharedStable, path string) *SharedStable {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := OpenSharedStable(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
