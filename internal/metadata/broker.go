package metadata

import (
	"errors"
	"fmt"
	"net"
)

// Broker is one node as the cluster knows it. The agent registers it with the
// controller at start and again whenever an address or the shard count
// changes; the record lives in State until the node is decommissioned.
type Broker struct {
	NodeID    int32  `json:"node_id"`              // Kafka broker id and Raft server id; >= 0
	KafkaAddr string `json:"kafka_addr"`           // advertised Kafka API, host:port
	AdminAddr string `json:"admin_addr,omitempty"` // admin API, host:port; "" if disabled
	RPCAddr   string `json:"rpc_addr,omitempty"`   // internode RPC of shard 0, host:port; shard i listens on port+i
	Rack      string `json:"rack,omitempty"`       // "" means no rack
	Shards    int    `json:"shards"`               // shard processes on the node; >= 1
}

// Validate checks the fields a broker record must have. It collects every
// problem into one error.
func (b Broker) Validate() error {
	var errs []error
	if b.NodeID < 0 {
		errs = append(errs, fmt.Errorf("node id %d is negative", b.NodeID))
	}
	if b.Shards < 1 {
		errs = append(errs, fmt.Errorf("shards %d, want at least 1", b.Shards))
	}
	if err := checkHostPort("kafka address", b.KafkaAddr, true); err != nil {
		errs = append(errs, err)
	}
	if err := checkHostPort("admin address", b.AdminAddr, false); err != nil {
		errs = append(errs, err)
	}
	if err := checkHostPort("rpc address", b.RPCAddr, false); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func checkHostPort(what, addr string, required bool) error {
	if addr == "" {
		if required {
			return fmt.Errorf("%s is empty", what)
		}
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if host == "" || port == "" {
		return fmt.Errorf("%s %q: want host:port", what, addr)
	}
	return nil
}
