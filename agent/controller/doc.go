// Package controller is the node's controller: the cluster metadata state
// machine (brokers, topics and their placement, cluster configuration),
// replicated with hashicorp/raft and stored with raft-boltdb.
//
// Lifecycle: the agent calls Open once at start, WaitReady before serving
// requests that need the controller, and Close at shutdown. Writes (CreateTopic,
// DeleteTopic, ...) go through the Raft log and return once applied locally;
// they fail with ErrNotController on a node that is not the Raft leader.
// Reads (State, Snapshot) never block and see the last applied version.
//
// Data flow: request -> validation against the current State (cheap early
// error) -> JSON command in a Raft log entry -> fsm.Apply on every voter
// (validates again, deterministically) -> new immutable metadata.State ->
// Config.OnChange(metadata.Change) -> the agent publishes it on the bus.
package controller
