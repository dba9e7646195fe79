package bus

import "errors"

// Sentinel errors. Callers test them with errors.Is; every error returned by
// this package wraps one of these or an error from nats.go.
var (
	// ErrNotLoopback: ServerOptions.Host is not a loopback IP address. The bus
	// carries no TLS and trusts a shared token: it must not leave the host.
	ErrNotLoopback = errors.New("bus: host is not a loopback address")

	// ErrNotReady: the embedded server did not accept connections in time.
	ErrNotReady = errors.New("bus: server not ready for connections")

	// ErrBusLost: the connection was down for longer than
	// ConnOptions.GiveUpAfter and has been closed. Returned by Conn.Err.
	ErrBusLost = errors.New("bus: connection lost")

	// ErrNoEnv: FromEnv found the URL or the token missing.
	ErrNoEnv = errors.New("bus: bus url or token not set in environment")

	// ErrBadMessage: a message body could not be encoded or decoded as the
	// expected type.
	ErrBadMessage = errors.New("bus: bad message")

	// ErrRemote: the responder could not handle the request (it could not
	// decode it) and said so in the reply header.
	ErrRemote = errors.New("bus: remote error")
)
