package admin

import "net/http"

// GET /v1/status/ready: {"status":"ready"} once every shard of the node
// serves Kafka requests, else {"status":"booting"}. Redpanda answers both
// with 200; Ailurus answers "booting" with 503 so that a probe that only
// looks at the status code (systemd, Kubernetes httpGet, curl --fail) works.

// readyStatus is the body of /v1/status/ready.
type readyStatus struct {
	Status string `json:"status"` // "ready" or "booting"
}

func (s *Server) getReady(w http.ResponseWriter, _ *http.Request) {
	serving, total := s.cfg.Health.ShardsServing()
	if total > 0 && serving >= total {
		s.writeJSON(w, http.StatusOK, readyStatus{Status: "ready"})
		return
	}
	s.writeJSON(w, http.StatusServiceUnavailable, readyStatus{Status: "booting"})
}
