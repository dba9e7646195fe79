package tests

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestE2EDescribeCluster checks DescribeCluster against Metadata (same
// brokers, cluster id and controller), the authorized operations sentinel,
// the refusal of controller endpoints, and that ApiVersions advertises the
// admin APIs at the versions served.
func TestE2EDescribeCluster(t *testing.T) {
	n := RunNode(t, NodeOptions{Shards: 2})
	cl := n.Client()
	md, err := n.Admin().BrokerMetadata(ctxT(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []int16{0, 1} {
		req := kmsg.NewPtrDescribeClusterRequest()
		req.SetVersion(v)
		req.IncludeClusterAuthorizedOperations = true
		kr, err := cl.Request(ctxT(t, time.Minute), req)
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		resp := kr.(*kmsg.DescribeClusterResponse)
		if resp.ErrorCode != 0 || resp.ClusterID != md.Cluster || resp.ControllerID != md.Controller ||
			resp.ClusterAuthorizedOperations != -2147483648 || len(resp.Brokers) != len(md.Brokers) {
			t.Fatalf("v%d: %+v, metadata %+v", v, resp, md)
		}
		b, want := resp.Brokers[0], md.Brokers[0]
		if b.NodeID != want.NodeID || b.Host != want.Host || b.Port != want.Port {
			t.Errorf("v%d broker %+v, metadata says %+v", v, b, want)
		}
	}
	req := kmsg.NewPtrDescribeClusterRequest()
	req.SetVersion(1)
	req.EndpointType = 2
	kr, err := cl.Request(ctxT(t, time.Minute), req)
	if err != nil {
		t.Fatal(err)
	}
	if code := kr.(*kmsg.DescribeClusterResponse).ErrorCode; code != kerr.UnsupportedEndpointType.Code {
		t.Errorf("controller endpoints: %v", kerr.ErrorForCode(code))
	}

	vs, err := n.Admin().ApiVersions(ctxT(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	vs.Each(func(bv kadm.BrokerApiVersions) {
		for key, want := range map[kmsg.Key][2]int16{
			kmsg.DeleteRecords: {0, 2}, kmsg.OffsetForLeaderEpoch: {0, 4}, kmsg.DescribeConfigs: {0, 4},
			kmsg.AlterConfigs: {0, 2}, kmsg.DescribeLogDirs: {0, 4}, kmsg.CreatePartitions: {0, 3},
			kmsg.IncrementalAlterConfigs: {0, 1}, kmsg.DescribeCluster: {0, 1},
		} {
			min, max, ok := bv.KeyVersions(int16(key))
			if !ok || min != want[0] || max != want[1] {
				t.Errorf("%s: advertised %d-%d (%v), want %d-%d", kmsg.NameForKey(int16(key)), min, max, ok, want[0], want[1])
			}
		}
	})
}
