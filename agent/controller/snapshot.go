package controller

import (
	"encoding/json"
	"fmt"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/metadata"
)

// fsmSnapshot writes one State to a snapshot sink. Raft calls Persist from its
// snapshot goroutine, then Release.
type fsmSnapshot struct {
	state *metadata.State // immutable
}

var _ raft.FSMSnapshot = (*fsmSnapshot)(nil)

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := json.NewEncoder(sink).Encode(snapshotFile{Format: snapshotFormat, State: s.state}); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("write controller snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}
