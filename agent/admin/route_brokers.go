package admin

import (
	"net"
	"net/http"
	"strconv"

	"github.com/ailurus/ailurus/internal/metadata"
)

// GET /v1/brokers: every broker the controller knows, sorted by node id.
// GET /v1/brokers/{id}: one of them, 404 if unknown.
//
// Fields are Redpanda's (admin/api-doc/broker.json) where Ailurus has the
// data; is_alive is left out for a node whose liveness is unknown, version
// for nodes other than this one. kafka_address/kafka_port and
// admin_address/admin_port are Ailurus additions (clients ignore unknown
// fields).

// brokerJSON is one broker as /v1/brokers shows it.
type brokerJSON struct {
	NodeID             int32  `json:"node_id"`
	NumCores           int    `json:"num_cores"`
	MembershipStatus   string `json:"membership_status"` // "active": decommissioning does not exist yet
	IsAlive            *bool  `json:"is_alive,omitempty"`
	Version            string `json:"version,omitempty"`
	InternalRPCAddress string `json:"internal_rpc_address,omitempty"`
	InternalRPCPort    int    `json:"internal_rpc_port,omitempty"`
	Rack               string `json:"rack,omitempty"`
	KafkaAddress       string `json:"kafka_address,omitempty"`
	KafkaPort          int    `json:"kafka_port,omitempty"`
	AdminAddress       string `json:"admin_address,omitempty"`
	AdminPort          int    `json:"admin_port,omitempty"`
}

func (s *Server) getBrokers(w http.ResponseWriter, _ *http.Request) {
	brokers := s.cfg.Cluster.State().BrokerList()
	out := make([]brokerJSON, 0, len(brokers))
	for _, b := range brokers {
		out = append(out, s.brokerJSON(b))
	}
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) getBroker(w http.ResponseWriter, r *http.Request) {
	idText := r.PathValue("id")
	id, err := strconv.ParseInt(idText, 10, 32)
	if err != nil || id < 0 {
		s.writeError(w, http.StatusBadRequest, "broker id "+strconv.Quote(idText)+" is not a node id")
		return
	}
	b, ok := s.cfg.Cluster.State().Broker(int32(id))
	if !ok {
		s.writeError(w, http.StatusNotFound, "broker "+idText+" not found")
		return
	}
	s.writeJSON(w, http.StatusOK, s.brokerJSON(b))
}

func (s *Server) brokerJSON(b metadata.Broker) brokerJSON {
	out := brokerJSON{
		NodeID:           b.NodeID,
		NumCores:         b.Shards,
		MembershipStatus: "active",
		Rack:             b.Rack,
	}
	out.InternalRPCAddress, out.InternalRPCPort = splitHostPort(b.RPCAddr)
	out.KafkaAddress, out.KafkaPort = splitHostPort(b.KafkaAddr)
	out.AdminAddress, out.AdminPort = splitHostPort(b.AdminAddr)
	if b.NodeID == s.cfg.NodeID {
		alive := true
		out.IsAlive = &alive
		out.Version = s.cfg.Version
	} else if l, ok := s.cfg.Cluster.(Liveness); ok {
		if alive, known := l.NodeAlive(b.NodeID); known {
			out.IsAlive = &alive
		}
	}
	return out
}

// splitHostPort splits a registered host:port; an empty or malformed address
// gives "" and 0 (Broker.Validate keeps malformed ones out of the State).
func splitHostPort(addr string) (string, int) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return host, 0
	}
	return host, port
}
