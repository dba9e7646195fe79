package admin

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"time"
)

// recorder remembers whether the handler has started its answer, and with
// which status, so that a panic can still be answered with a 500 and the
// request log line has the status.
type recorder struct {
	http.ResponseWriter
	status int // 0 until WriteHeader or the first Write
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// guard wraps every request: a panicking handler is logged with its stack and
// answered 500 (when nothing was sent yet) instead of killing the agent, and
// each request is logged at debug level.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler { // net/http's way to abort a response: let it through
					panic(v)
				}
				s.log.Error("admin handler panicked", "method", r.Method, "path", r.URL.Path,
					"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if rec.status == 0 {
					s.writeError(rec, http.StatusInternalServerError, "internal error")
				}
			}
			s.log.Debug("admin request", "method", r.Method, "path", r.URL.Path,
				"status", rec.status, "took", time.Since(start))
		}()
		next.ServeHTTP(rec, r)
	})
}
