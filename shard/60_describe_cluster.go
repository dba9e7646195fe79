package shard

// DescribeCluster v0-v1 (KIP-700): the brokers of the controller's registry,
// the cluster id, and this node as the controller id, as Metadata answers.
// Cluster authorized operations are not computed (no ACLs yet): always
// -2147483648, "not requested", whatever the request asks. Asking for
// controller endpoints (v1, endpoint type 2) is UNSUPPORTED_ENDPOINT_TYPE:
// the controller is not a separate set of nodes.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.DescribeCluster, 0, 1, handleDescribeCluster) }

func handleDescribeCluster(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	resp.ClusterAuthorizedOperations = -2147483648
	resp.ControllerID = -1
	if req.Version >= 1 {
		resp.EndpointType = req.EndpointType
		if req.EndpointType != 1 {
			resp.ErrorCode = kerr.UnsupportedEndpointType.Code
			msg := "only broker endpoints (type 1) are served"
			resp.ErrorMessage = &msg
			return resp, nil
		}
	}
	st := s.cfg.Catalog.State()
	resp.ClusterID = st.ClusterID.String()
	resp.ControllerID = s.cfg.NodeID
	for _, b := range st.BrokerList() {
		host, port := splitHostPort(b.KafkaAddr)
		rb := kmsg.NewDescribeClusterResponseBroker()
		rb.NodeID, rb.Host, rb.Port = b.NodeID, host, port
		if b.Rack != "" {
			r := b.Rack
			rb.Rack = &r
		}
		resp.Brokers = append(resp.Brokers, rb)
	}
	return resp, nil
}
