package admin

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
)

func TestBrokersList(t *testing.T) {
	env := runServer(t, nil)
	var got []map[string]any
	env.get("/v1/brokers").expect(t, http.StatusOK, &got)
	want := []map[string]any{
		{
			"node_id": 1.0, "num_cores": 2.0, "membership_status": "active", "is_alive": true,
			"version": "v0.0.0-test", "rack": "rack-a",
			"internal_rpc_address": "127.0.0.1", "internal_rpc_port": 33145.0,
			"kafka_address": "127.0.0.1", "kafka_port": 9092.0,
			"admin_address": "127.0.0.1", "admin_port": 9644.0,
		},
		{
			// Another node: liveness unknown without the Liveness capability,
			// version unknown, no rack, no admin address.
			"node_id": 2.0, "num_cores": 4.0, "membership_status": "active",
			"internal_rpc_address": "10.0.0.2", "internal_rpc_port": 33145.0,
			"kafka_address": "10.0.0.2", "kafka_port": 19092.0,
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("brokers:\n got %v\nwant %v", got, want)
	}
}

func TestBrokersLivenessOfOtherNodes(t *testing.T) {
	var cluster *fakeCluster
	env := runServer(t, func(c *Config) {
		cluster = c.Cluster.(*fakeCluster)
		cluster.alive = map[int32]bool{2: false}
		c.Cluster = livenessCluster{cluster}
	})
	var got []brokerJSON
	env.get("/v1/brokers").expect(t, http.StatusOK, &got)
	if len(got) != 2 || got[1].IsAlive == nil || *got[1].IsAlive {
		t.Fatalf("node 2 known dead: got %+v", got)
	}
	cluster.set(func(f *fakeCluster) { f.alive[2] = true })
	env.get("/v1/brokers").expect(t, http.StatusOK, &got)
	if got[1].IsAlive == nil || !*got[1].IsAlive {
		t.Fatalf("node 2 known alive: got %+v", got[1])
	}
}

func TestBrokersOne(t *testing.T) {
	env := runServer(t, nil)
	var b brokerJSON
	env.get("/v1/brokers/2").expect(t, http.StatusOK, &b)
	if b.NodeID != 2 || b.NumCores != 4 || b.KafkaPort != 19092 {
		t.Fatalf("broker 2: %+v", b)
	}
	env.get("/v1/brokers/9").expectError(t, http.StatusNotFound, "broker 9 not found")
	env.get("/v1/brokers/x").expectError(t, http.StatusBadRequest, "not a node id")
	env.get("/v1/brokers/-1").expectError(t, http.StatusBadRequest, "not a node id")
}

func TestBrokersEmptyIsEmptyList(t *testing.T) {
	env := runServer(t, nil)
	env.cluster.set(func(f *fakeCluster) {
		st := *f.state
		st.Brokers = nil
		f.state = &st
	})
	r := env.get("/v1/brokers")
	var raw json.RawMessage
	r.expect(t, http.StatusOK, &raw)
	if string(raw) != "[]" {
		t.Fatalf("no brokers: body %s, want []", raw)
	}
}
