package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// errorBody is the body of every error answer except cluster config
// validation, as Redpanda's admin server (seastar) writes it.
type errorBody struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
}

// writeJSON answers status with v encoded as JSON.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only a bug gets here (every answer type is plain data).
		s.log.Error("admin response not encodable", "type", fmt.Sprintf("%T", v), "err", err)
		status = http.StatusInternalServerError
		body, _ = json.Marshal(errorBody{Message: "internal error: response not encodable", Code: status})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// writeError answers status with {"message": msg, "code": status}.
func (s *Server) writeError(w http.ResponseWriter, status int, msg string) {
	s.writeJSON(w, status, errorBody{Message: msg, Code: status})
}

// methods dispatches a route by HTTP method and answers 405, with an Allow
// header, for any other. A GET handler also serves HEAD.
type methods map[string]http.HandlerFunc

func (s *Server) route(m methods) http.HandlerFunc {
	allowed := make([]string, 0, len(m)+1)
	for method := range m {
		allowed = append(allowed, method)
	}
	if _, ok := m[http.MethodGet]; ok {
		if _, ok := m[http.MethodHead]; !ok {
			m[http.MethodHead] = m[http.MethodGet]
			allowed = append(allowed, http.MethodHead)
		}
	}
	slices.Sort(allowed)
	allow := strings.Join(allowed, ", ")
	return func(w http.ResponseWriter, r *http.Request) {
		h, ok := m[r.Method]
		if !ok {
			w.Header().Set("Allow", allow)
			s.writeError(w, http.StatusMethodNotAllowed,
				fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow))
			return
		}
		h(w, r)
	}
}

// notFound answers every path no route matches.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, http.StatusNotFound, "not found: "+r.URL.Path)
}

// readBody reads the request body, at most cfg.MaxBodyBytes. On failure it
// has answered (413 for too large, 400 otherwise) and returns ok false.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (body []byte, ok bool) {
	limit := s.cfg.MaxBodyBytes
	if r.ContentLength > limit {
		s.writeError(w, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("request body of %d bytes is over the limit of %d bytes", r.ContentLength, limit))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			s.writeError(w, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("request body is over the limit of %d bytes", limit))
			return nil, false
		}
		s.writeError(w, http.StatusBadRequest, "cannot read request body: "+err.Error())
		return nil, false
	}
	return body, true
}

// boolParam reads an optional boolean query parameter: absent or empty gives
// def; "1"/"true"/"yes" and "0"/"false"/"no" (any case) are accepted, as is
// any integer (nonzero is true, as Redpanda's force and dry_run are
// documented). Anything else is an error naming the parameter.
func boolParam(r *http.Request, name string, def bool) (bool, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return def, nil
	}
	switch strings.ToLower(v) {
	case "true", "yes":
		return true, nil
	case "false", "no":
		return false, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n != 0, nil
	}
	return false, fmt.Errorf("query parameter %s=%q: want true or false", name, v)
}
