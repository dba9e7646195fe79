package admin

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/ailurus/ailurus/internal/metadata"
)

func TestPartitionsListsThisNodesReplicas(t *testing.T) {
	env := runServer(t, nil)
	var got []map[string]any
	env.get("/v1/partitions").expect(t, http.StatusOK, &got)
	p := func(topic string, id, core, leader float64) map[string]any {
		return map[string]any{"ns": "kafka", "topic": topic, "partition_id": id, "core": core,
			"materialized": false, "leader": leader}
	}
	// orders/1 lives on node 2 only: not listed.
	want := []map[string]any{
		p("__consumer_offsets", 0, 0, 1),
		p("alpha", 0, 1, 2),
		p("orders", 0, 0, 1),
		p("orders", 2, 1, -1),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("partitions:\n got %v\nwant %v", got, want)
	}
}

func TestPartitionsOtherNode(t *testing.T) {
	env := runServer(t, func(c *Config) { c.NodeID = 2 })
	var got []partitionSummary
	env.get("/v1/partitions").expect(t, http.StatusOK, &got)
	want := []partitionSummary{
		{NS: "kafka", Topic: "alpha", PartitionID: 0, Core: 0, Leader: 2},
		{NS: "kafka", Topic: "orders", PartitionID: 1, Core: 1, Leader: 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("partitions of node 2:\n got %+v\nwant %+v", got, want)
	}
}

func TestPartitionsNoneIsEmptyList(t *testing.T) {
	env := runServer(t, nil)
	env.cluster.set(func(f *fakeCluster) { f.state = metadata.NewState() })
	var raw json.RawMessage
	env.get("/v1/partitions").expect(t, http.StatusOK, &raw)
	if string(raw) != "[]" {
		t.Fatalf("no partitions: body %s, want []", raw)
	}
}
