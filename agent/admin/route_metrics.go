package admin

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// GET /metrics: Prometheus exposition of the agent's registry
// (Config.Gatherer) and the children's pushes (Config.Collector), merged by
// family name. A family two sources disagree on (type or help) is left out
// and logged; the rest is still served.

func (s *Server) metricsHandler() http.Handler {
	var gs prometheus.Gatherers
	if s.cfg.Gatherer != nil {
		gs = append(gs, s.cfg.Gatherer)
	}
	if s.cfg.Collector != nil {
		gs = append(gs, s.cfg.Collector)
	}
	return promhttp.HandlerFor(gs, promhttp.HandlerOpts{
		ErrorLog:      promLogger{s},
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// promLogger sends promhttp's errors to the server's log.
type promLogger struct{ s *Server }

func (l promLogger) Println(v ...any) {
	l.s.log.Warn("metrics scrape incomplete", "err", fmt.Sprint(v...))
}
