package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"

	"github.com/ailurus/ailurus/internal/config"
)

// GET /v1/cluster_config: every cluster property with its effective value
// (the one set, else the default), as a JSON object of typed values.
//   ?include_defaults=false  only properties whose value differs from the
//                            default (Redpanda's meaning of the flag)
//   ?key=NAME                only that property, {"NAME": value}; 400 if unknown
//
// PUT /v1/cluster_config {"upsert": {NAME: value, ...}, "remove": [NAME, ...]}:
// validates every property first, with the same rules as the node file
// (config.ParseClusterProperty). If any is bad, nothing is applied and the
// answer is 400 with a JSON object mapping each bad property to its problem,
// Redpanda's shape, which rpk prints as "Validation errors". Otherwise the
// change goes through the controller and the answer is
// {"config_version": N}, N being the metadata version after the change.
//   ?dry_run=true  validate only; answers the current version
//   ?force=true    refused: Ailurus never stores an unvalidated value
// Either of "upsert" and "remove" may be left out; unknown top-level fields
// are refused.

// configWriteResult is the answer to a successful PUT.
type configWriteResult struct {
	ConfigVersion uint64 `json:"config_version"`
}

// configPatch is the body of PUT /v1/cluster_config.
type configPatch struct {
	Upsert map[string]any `json:"upsert"`
	Remove []string       `json:"remove"`
}

func (s *Server) getClusterConfig(w http.ResponseWriter, r *http.Request) {
	stored := s.cfg.Cluster.State().ClusterConfig
	if key := r.URL.Query().Get("key"); key != "" {
		p, ok := config.LookupClusterProperty(key)
		if !ok {
			s.writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown property %q", key))
			return
		}
		v, _, _ := effectiveValue(p, stored)
		s.writeJSON(w, http.StatusOK, map[string]any{key: v})
		return
	}
	includeDefaults, err := boolParam(r, "include_defaults", true)
	if err != nil {
		s.writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out := map[string]any{}
	for _, p := range config.ClusterProperties() {
		v, set, _ := effectiveValue(p, stored)
		if includeDefaults || (set && v != p.Default) {
			out[p.Name] = v
		}
	}
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) putClusterConfig(w http.ResponseWriter, r *http.Request) {
	force, err := boolParam(r, "force", false)
	if err != nil {
		s.writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if force {
		s.writeError(w, http.StatusBadRequest, "force is not supported: every property is validated")
		return
	}
	dryRun, err := boolParam(r, "dry_run", false)
	if err != nil {
		s.writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	patch, err := decodePatch(body)
	if err != nil {
		s.writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	upsert, problems := validatePatch(patch)
	if len(problems) > 0 {
		s.log.Info("cluster config change refused", "count", len(problems), "properties", someNames(problems, 20))
		s.writeJSON(w, http.StatusBadRequest, problems)
		return
	}
	if dryRun {
		s.writeJSON(w, http.StatusOK, configWriteResult{ConfigVersion: s.cfg.Cluster.State().Version})
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.WriteTimeout)
	defer cancel()
	version, err := s.cfg.Cluster.SetClusterConfig(ctx, upsert, patch.Remove)
	if err != nil {
		status := http.StatusInternalServerError
		switch {
		case s.cfg.IsUnavailable != nil && s.cfg.IsUnavailable(err):
			status = http.StatusServiceUnavailable
		case errors.Is(err, context.DeadlineExceeded):
			status = http.StatusGatewayTimeout
		}
		s.log.Warn("cluster config change failed", "upsert", upsert, "remove", patch.Remove, "err", err)
		s.writeError(w, status, "cluster config change failed: "+err.Error())
		return
	}
	s.log.Info("cluster config changed", "upsert", upsert, "remove", patch.Remove, "version", version)
	s.writeJSON(w, http.StatusOK, configWriteResult{ConfigVersion: version})
}

// decodePatch parses a PUT body. Numbers stay json.Number so that large
// integers keep every digit.
func decodePatch(body []byte) (configPatch, error) {
	var patch configPatch
	if len(bytes.TrimSpace(body)) == 0 {
		return patch, errors.New(`empty body: want {"upsert": {...}, "remove": [...]}`)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&patch); err != nil {
		return patch, fmt.Errorf("invalid JSON body: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return patch, errors.New("invalid JSON body: data after the object")
	}
	return patch, nil
}

// validatePatch checks every upsert and remove and returns the upserts in
// stored text form, or the problems by property name (empty when none).
func validatePatch(patch configPatch) (upsert map[string]string, problems map[string]string) {
	upsert = make(map[string]string, len(patch.Upsert))
	problems = map[string]string{}
	for name, value := range patch.Upsert {
		v, err := config.ParseClusterProperty(name, value)
		if err != nil {
			problems[name] = err.Error()
			continue
		}
		upsert[name] = config.ClusterValueText(v)
	}
	seen := make(map[string]bool, len(patch.Remove))
	for _, name := range patch.Remove {
		_, upserted := patch.Upsert[name]
		switch {
		case seen[name] || problems[name] != "":
			// Listed twice, or already reported with its upsert.
		case !knownProperty(name):
			// ParseClusterProperty words it, with a "did you mean".
			_, err := config.ParseClusterProperty(name, nil)
			problems[name] = err.Error()
		case upserted:
			problems[name] = "both upserted and removed"
		}
		seen[name] = true
	}
	return upsert, problems
}

func knownProperty(name string) bool {
	_, ok := config.LookupClusterProperty(name)
	return ok
}

// someNames returns the first n keys of m in order, for a log line of bounded
// size.
func someNames(m map[string]string, n int) []string {
	names := slices.Sorted(maps.Keys(m))
	if len(names) > n {
		names = append(names[:n], "...")
	}
	return names
}
