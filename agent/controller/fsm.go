package controller

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"github.com/ailurus/ailurus/internal/metadata"
)

// fsm is the Raft state machine. Raft calls Apply, Snapshot and Restore from
// its FSM goroutine, one at a time (Restore also once from NewRaft, before
// that goroutine starts), so only that goroutine writes state. Readers load
// the pointer at any time; a published State is never modified.
type fsm struct {
	state    atomic.Pointer[metadata.State]
	onChange func(metadata.Change) // may be nil
	log      *slog.Logger
}

var _ raft.FSM = (*fsm)(nil)

// applyResult is what Apply returns to the proposer through ApplyFuture.Response.
type applyResult struct {
	change metadata.Change // Version is the State version after the command
	err    error
}

func newFSM(onChange func(metadata.Change), log *slog.Logger) *fsm {
	f := &fsm{onChange: onChange, log: log}
	f.state.Store(metadata.NewState())
	return f
}

// Apply runs one committed command. A command that fails validation changes
// nothing and returns its error to the proposer; it is not a fault.
func (f *fsm) Apply(l *raft.Log) any {
	cur := f.state.Load()
	cmd, err := decodeCommand(l.Data)
	if err != nil {
		f.log.Error("controller command skipped", "index", l.Index, "err", err)
		return applyResult{change: metadata.Change{Version: cur.Version}, err: err}
	}
	next, ch, err := cmd.apply(cur, l.Index)
	if err != nil {
		return applyResult{change: metadata.Change{Version: cur.Version}, err: err}
	}
	if next == nil { // nothing to change: no new version, nothing to announce
		ch.Version = cur.Version
		return applyResult{change: ch}
	}
	next.Version = cur.Version + 1
	ch.Version = next.Version
	f.state.Store(next)
	if f.onChange != nil {
		f.onChange(ch)
	}
	return applyResult{change: ch}
}

// Snapshot captures the current State. It only takes the pointer: the State
// is immutable, so Persist can encode it while Apply goes on.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	return &fsmSnapshot{state: f.state.Load()}, nil
}

// Restore replaces the State with a snapshot's and announces a reset.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	st, err := readSnapshot(rc)
	if err != nil {
		return err
	}
	f.state.Store(st)
	f.log.Info("controller state restored", "version", st.Version, "topics", len(st.Topics))
	if f.onChange != nil {
		f.onChange(metadata.Change{Version: st.Version, Kind: metadata.ChangeStateReset})
	}
	return nil
}

// The snapshot file is JSON: {"format":1,"state":{...metadata.State...}}.
const snapshotFormat = 1

type snapshotFile struct {
	Format int             `json:"format"`
	State  *metadata.State `json:"state"`
}

var errSnapshotFormat = errors.New("unsupported controller snapshot format")

func readSnapshot(r io.Reader) (*metadata.State, error) {
	var sf snapshotFile
	if err := json.NewDecoder(r).Decode(&sf); err != nil {
		return nil, fmt.Errorf("decode controller snapshot: %w", err)
	}
	if sf.Format != snapshotFormat || sf.State == nil {
		return nil, fmt.Errorf("%w: format %d", errSnapshotFormat, sf.Format)
	}
	return sf.State, nil
}
