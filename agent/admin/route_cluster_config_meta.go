package admin

import (
	"net/http"
	"slices"

	"github.com/ailurus/ailurus/internal/config"
)

// GET /v1/cluster_config/status: this node's view, in Redpanda's shape (a
// list with one entry per node; Ailurus lists this node only, as it does not
// collect other nodes' status yet). config_version is the metadata version;
// unknown lists stored properties this binary does not know, invalid those
// whose stored value it cannot read. restart is always false: no property
// records yet whether it needs one.

// configStatus is one entry of /v1/cluster_config/status.
type configStatus struct {
	NodeID        int32    `json:"node_id"`
	Restart       bool     `json:"restart"`
	ConfigVersion uint64   `json:"config_version"`
	Invalid       []string `json:"invalid"`
	Unknown       []string `json:"unknown"`
}

func (s *Server) getClusterConfigStatus(w http.ResponseWriter, _ *http.Request) {
	st := s.cfg.Cluster.State()
	out := configStatus{NodeID: s.cfg.NodeID, ConfigVersion: st.Version, Invalid: []string{}, Unknown: []string{}}
	for name, text := range st.ClusterConfig {
		p, ok := config.LookupClusterProperty(name)
		if !ok {
			out.Unknown = append(out.Unknown, name)
			continue
		}
		if _, err := clusterValue(p, text); err != nil {
			out.Invalid = append(out.Invalid, name)
		}
	}
	slices.Sort(out.Invalid)
	slices.Sort(out.Unknown)
	s.writeJSON(w, http.StatusOK, []configStatus{out})
}

// GET /v1/cluster_config/schema: {"properties": {NAME: metadata}} as
// Redpanda's cluster_config_property_metadata, from the property table.
// rpk reads it before `cluster config set` and `edit`. needs_restart is
// false for every property: the table does not record it yet.

// propertySchema is the metadata of one property.
type propertySchema struct {
	Type         string   `json:"type"` // boolean, integer or string
	Description  string   `json:"description"`
	Nullable     bool     `json:"nullable"`
	NeedsRestart bool     `json:"needs_restart"`
	Visibility   string   `json:"visibility"` // always "user"
	IsSecret     bool     `json:"is_secret"`
	Units        string   `json:"units,omitempty"` // ms or bytes
	EnumValues   []string `json:"enum_values,omitempty"`
	Default      any      `json:"default"`
}

func (s *Server) getClusterConfigSchema(w http.ResponseWriter, _ *http.Request) {
	props := map[string]propertySchema{}
	for _, p := range config.ClusterProperties() {
		ps := propertySchema{
			Description: p.Description,
			Nullable:    p.Nullable,
			Visibility:  "user",
			Default:     p.Default,
		}
		switch p.Type {
		case config.TypeBool:
			ps.Type = "boolean"
		case config.TypeInt:
			ps.Type = "integer"
		case config.TypeDurationMs:
			ps.Type, ps.Units = "integer", "ms"
		case config.TypeBytes:
			ps.Type, ps.Units = "integer", "bytes"
		case config.TypeEnum:
			ps.Type, ps.EnumValues = "string", p.Enum
		default:
			ps.Type = "string"
		}
		props[p.Name] = ps
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"properties": props})
}
