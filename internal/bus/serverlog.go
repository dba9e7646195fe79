package bus

import (
	"fmt"
	"log/slog"

	"github.com/nats-io/nats-server/v2/server"
)

// serverLogger routes nats-server's printf-style log calls into slog. The
// server calls it from any of its goroutines; slog handlers are safe for that.
type serverLogger struct {
	log *slog.Logger
}

var _ server.Logger = (*serverLogger)(nil)

// Noticef logs at debug level: the server's notices are its start-up banner
// and lifecycle chatter, which StartServer and Shutdown already sum up in one
// info line each.
func (l *serverLogger) Noticef(format string, v ...any) {
	l.log.Debug(fmt.Sprintf(format, v...))
}

func (l *serverLogger) Warnf(format string, v ...any) {
	l.log.Warn(fmt.Sprintf(format, v...))
}

// Fatalf logs at error level and returns: the server has already given up on
// what failed (a listener, typically), and StartServer reports it. Exiting the
// agent from inside the bus is not the bus's call.
func (l *serverLogger) Fatalf(format string, v ...any) {
	l.log.Error(fmt.Sprintf(format, v...), "fatal", true)
}

func (l *serverLogger) Errorf(format string, v ...any) {
	l.log.Error(fmt.Sprintf(format, v...))
}

func (l *serverLogger) Debugf(format string, v ...any) {
	l.log.Debug(fmt.Sprintf(format, v...))
}

func (l *serverLogger) Tracef(format string, v ...any) {
	l.log.Debug(fmt.Sprintf(format, v...), "trace", true)
}
