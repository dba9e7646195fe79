// Package metadata holds the cluster metadata types every role shares: brokers,
// topics and their partition placement, the cluster configuration, the whole
// State the controller replicates, the Change it announces after each applied
// command, topic name rules and the placement function.
//
// The package is pure data and functions: no I/O, no goroutines, no locks.
// The controller (agent/controller) owns the authoritative State; shards, the
// CLI and the admin API receive copies (a State snapshot, then Changes).
//
// A *State handed out by the controller is immutable: it is shared between
// readers and must not be modified. Mutation happens only through the With*
// methods, which return a new State and leave the receiver untouched.
package metadata
