// Package bus is the node's control bus: an embedded NATS server that the agent
// runs on loopback, the client every process uses to reach it, and the one list
// of subjects and message types that travel on it.
//
// Lifecycle. The agent calls StartServer once at start-up and Shutdown when it
// stops; the server never outlives the agent, and a new agent gets a new port
// and a new token. The agent hands URL and token to each child through the
// environment (EnvFor); the child reads them back (FromEnv), calls Connect, and
// exits when Conn.Closed fires, because a bus that is gone for long means the
// agent is gone.
//
// Messages are JSON. Payloads that belong to other packages (topics,
// placements) stay opaque json.RawMessage here, so this package depends on
// nothing but NATS. Publish, Subscribe, Request and Respond wrap encoding and
// decoding; MetaFollower turns the metadata snapshot and update stream into an
// ordered, gap-free sequence of callbacks for a shard.
package bus
