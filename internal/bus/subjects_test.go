package bus

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestShardSubjects(t *testing.T) {
	if got := ShardHealthSubject(3); got != "ailurus.shard.3.health" {
		t.Fatalf("health subject %q", got)
	}
	if got := ShardReadySubject(12); got != "ailurus.shard.12.ready" {
		t.Fatalf("ready subject %q", got)
	}
	for _, tc := range []struct {
		subject string
		id      int
		event   string
		ok      bool
	}{
		{ShardHealthSubject(0), 0, "health", true},
		{ShardReadySubject(7), 7, "ready", true},
		{"ailurus.shard.x.health", 0, "", false},
		{"ailurus.shard.-1.health", 0, "", false},
		{"ailurus.shard.1.other", 0, "", false},
		{"ailurus.shard.1", 0, "", false},
		{"ailurus.metrics.shard.1", 0, "", false},
	} {
		id, event, ok := ParseShardSubject(tc.subject)
		if id != tc.id || event != tc.event || ok != tc.ok {
			t.Errorf("ParseShardSubject(%q) = %d %q %v, want %d %q %v", tc.subject, id, event, ok, tc.id, tc.event, tc.ok)
		}
	}
}

func TestMetricsSubjects(t *testing.T) {
	if got := MetricsSubject(RoleShard, 2); got != "ailurus.metrics.shard.2" {
		t.Fatalf("metrics subject %q", got)
	}
	for _, tc := range []struct {
		subject string
		role    string
		id      int
		ok      bool
	}{
		{MetricsSubject(RoleTransformer, 0), RoleTransformer, 0, true},
		{MetricsSubject(RoleShard, 15), RoleShard, 15, true},
		{"ailurus.metrics.shard", "", 0, false},
		{"ailurus.metrics..1", "", 0, false},
		{"ailurus.metrics.shard.one", "", 0, false},
		{"ailurus.shard.1.health", "", 0, false},
	} {
		role, id, ok := ParseMetricsSubject(tc.subject)
		if role != tc.role || id != tc.id || ok != tc.ok {
			t.Errorf("ParseMetricsSubject(%q) = %q %d %v, want %q %d %v", tc.subject, role, id, ok, tc.role, tc.id, tc.ok)
		}
	}
}

func TestEnvRoundTrip(t *testing.T) {
	env := map[string]string{}
	for _, kv := range EnvFor("nats://127.0.0.1:4222", "secret") {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	url, token, err := FromEnv(func(k string) string { return env[k] })
	if err != nil || url != "nats://127.0.0.1:4222" || token != "secret" {
		t.Fatalf("FromEnv = %q %q %v", url, token, err)
	}
	for _, missing := range []string{EnvURL, EnvToken} {
		_, _, err := FromEnv(func(k string) string {
			if k == missing {
				return ""
			}
			return env[k]
		})
		if !errors.Is(err, ErrNoEnv) {
			t.Errorf("without %s: err %v, want ErrNoEnv", missing, err)
		}
	}
}

// TestMessageWireNames pins the JSON field names: renaming a Go field must not
// change what is on the wire.
func TestMessageWireNames(t *testing.T) {
	for _, tc := range []struct {
		msg  any
		want string
	}{
		{MetaUpdate{Version: 2, Kind: "k", Payload: json.RawMessage(`{}`)}, `{"version":2,"kind":"k","payload":{}}`},
		{MetaSnapshot{Version: 2}, `{"version":2}`},
		{MetaSnapshotRequest{From: "shard-1", Have: 4}, `{"from":"shard-1","have":4}`},
		{SegmentClosed{Topic: "t", Partition: 1, Revision: 2, BaseOffset: 3, LastOffset: 4, Term: 5, Path: "p", SizeBytes: 6},
			`{"topic":"t","partition":1,"revision":2,"base_offset":3,"last_offset":4,"term":5,"path":"p","size_bytes":6}`},
		{HydrateRequest{Topic: "t", Partition: 1, Offset: 9}, `{"topic":"t","partition":1,"offset":9}`},
		{HydrateReply{Error: "e"}, `{"base_offset":0,"last_offset":0,"error":"e"}`},
		{CtrlRequest{Op: CtrlOpCreateTopics}, `{"op":"create_topics"}`},
		{CtrlReply{Error: "e"}, `{"error":"e"}`},
	} {
		b, err := json.Marshal(tc.msg)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%T: %s, want %s", tc.msg, b, tc.want)
		}
	}
}
