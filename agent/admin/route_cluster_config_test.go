package admin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/ailurus/ailurus/internal/config"
)

func TestClusterConfigGetAll(t *testing.T) {
	env := runServer(t, nil)
	var got map[string]any
	env.get("/v1/cluster_config").expect(t, http.StatusOK, &got)
	props := config.ClusterProperties()
	if len(got) != len(props) {
		t.Fatalf("%d properties, want every one of the %d", len(got), len(props))
	}
	checks := map[string]any{
		"log_retention_ms":      3600000.0,  // set
		"enable_idempotence":    true,       // set to its default
		"fetch_max_bytes":       57671680.0, // default 55 MiB
		"retention_bytes":       nil,        // null default
		"log_cleanup_policy":    "delete",   // enum default
		"write_caching_default": "false",    // enum that looks like a bool
	}
	for name, want := range checks {
		v, ok := got[name]
		if !ok || !reflect.DeepEqual(v, want) {
			t.Errorf("%s = %#v (present %v), want %#v", name, v, ok, want)
		}
	}
}

func TestClusterConfigGetWithoutDefaults(t *testing.T) {
	env := runServer(t, nil)
	var got map[string]any
	// enable_idempotence is set, but to its default: left out, as Redpanda does.
	env.get("/v1/cluster_config?include_defaults=false").expect(t, http.StatusOK, &got)
	if want := map[string]any{"log_retention_ms": 3600000.0}; !reflect.DeepEqual(got, want) {
		t.Fatalf("include_defaults=false: %v, want %v", got, want)
	}
	env.get("/v1/cluster_config?include_defaults=true").expect(t, http.StatusOK, &got)
	if len(got) != len(config.ClusterProperties()) {
		t.Fatalf("include_defaults=true: %d properties", len(got))
	}
	env.get("/v1/cluster_config?include_defaults=maybe").expectError(t, http.StatusBadRequest, "include_defaults")
}

func TestClusterConfigGetKey(t *testing.T) {
	env := runServer(t, nil)
	var got map[string]any
	env.get("/v1/cluster_config?key=log_retention_ms").expect(t, http.StatusOK, &got)
	if want := map[string]any{"log_retention_ms": 3600000.0}; !reflect.DeepEqual(got, want) {
		t.Fatalf("key=log_retention_ms: %v", got)
	}
	var def map[string]any
	env.get("/v1/cluster_config?key=log_segment_ms").expect(t, http.StatusOK, &def)
	if want := map[string]any{"log_segment_ms": 1209600000.0}; !reflect.DeepEqual(def, want) {
		t.Fatalf("key=log_segment_ms (default): %v", def)
	}
	env.get("/v1/cluster_config?key=log_retention").expectError(t, http.StatusBadRequest, `unknown property "log_retention"`)
}

func TestClusterConfigPutApplies(t *testing.T) {
	env := runServer(t, nil)
	body := `{
		"upsert": {
			"log_retention_ms": 1000,
			"auto_create_topics_enabled": "true",
			"log_cleanup_policy": "delete, compact",
			"retention_bytes": 9007199254740993,
			"log_segment_ms": null
		},
		"remove": ["enable_idempotence"]
	}`
	var res map[string]uint64
	env.put("/v1/cluster_config", body).expect(t, http.StatusOK, &res)
	if want := map[string]uint64{"config_version": 8}; !reflect.DeepEqual(res, want) {
		t.Fatalf("answer %v, want %v", res, want)
	}
	calls := env.cluster.setCalls()
	if len(calls) != 1 {
		t.Fatalf("%d controller writes, want 1", len(calls))
	}
	wantUpsert := map[string]string{
		"log_retention_ms":           "1000",
		"auto_create_topics_enabled": "true",
		"log_cleanup_policy":         "compact,delete", // canonical
		"retention_bytes":            "9007199254740993",
		"log_segment_ms":             "null",
	}
	if !reflect.DeepEqual(calls[0].upsert, wantUpsert) || !reflect.DeepEqual(calls[0].remove, []string{"enable_idempotence"}) {
		t.Fatalf("controller got upsert %v remove %v\nwant upsert %v remove [enable_idempotence]",
			calls[0].upsert, calls[0].remove, wantUpsert)
	}

	// GET shows the new values with their types, big integers exact.
	r := env.get("/v1/cluster_config?include_defaults=false")
	want := `{"auto_create_topics_enabled":true,"log_cleanup_policy":"compact,delete",` +
		`"log_retention_ms":1000,"log_segment_ms":null,"retention_bytes":9007199254740993}`
	r.expect(t, http.StatusOK, nil)
	if got := strings.TrimSpace(string(r.body)); got != want {
		t.Fatalf("after PUT:\n got %s\nwant %s", got, want)
	}
}

func TestClusterConfigPutReportsEveryProblemAndAppliesNothing(t *testing.T) {
	env := runServer(t, nil)
	body := `{
		"upsert": {
			"log_retention_ms": "an hour",
			"log_retension_ms": 1,
			"default_topic_replications": 2,
			"log_segment_size": 10,
			"kafka_batch_max_bytes": [1],
			"auto_create_topics_enabled": null,
			"log_cleanup_policy": "forever",
			"enable_transactions": false,
			"fetch_max_bytes": 1048576
		},
		"remove": ["no_such_thing", "enable_transactions"]
	}`
	var problems map[string]string
	env.put("/v1/cluster_config", body).expect(t, http.StatusBadRequest, &problems)
	want := map[string]string{
		"log_retention_ms":           "wrong type",
		"log_retension_ms":           `did you mean "log_retention_ms"`,
		"default_topic_replications": "even",
		"log_segment_size":           "less than the minimum",
		"kafka_batch_max_bytes":      "got a list",
		"auto_create_topics_enabled": "null is not allowed",
		"log_cleanup_policy":         `"forever" is not one of`,
		"no_such_thing":              "unknown cluster property",
		"enable_transactions":        "both upserted and removed",
	}
	if len(problems) != len(want) {
		t.Errorf("problems %v\nwant one for each of %v", problems, want)
	}
	for name, fragment := range want {
		if !strings.Contains(problems[name], fragment) {
			t.Errorf("problem of %s = %q, want it to contain %q", name, problems[name], fragment)
		}
	}
	if _, ok := problems["fetch_max_bytes"]; ok {
		t.Errorf("valid fetch_max_bytes reported: %q", problems["fetch_max_bytes"])
	}
	if calls := env.cluster.setCalls(); len(calls) != 0 {
		t.Fatalf("invalid change reached the controller: %v", calls)
	}
	var got map[string]any
	env.get("/v1/cluster_config?include_defaults=false").expect(t, http.StatusOK, &got)
	if want := map[string]any{"log_retention_ms": 3600000.0}; !reflect.DeepEqual(got, want) {
		t.Fatalf("config changed by a refused PUT: %v", got)
	}
}

func TestClusterConfigPutDryRunAndForce(t *testing.T) {
	env := runServer(t, nil)
	var res configWriteResult
	env.put("/v1/cluster_config?dry_run=true", `{"upsert":{"log_retention_ms":5},"remove":[]}`).
		expect(t, http.StatusOK, &res)
	if res.ConfigVersion != 7 {
		t.Fatalf("dry run: version %d, want the current 7", res.ConfigVersion)
	}
	var problems map[string]string
	env.put("/v1/cluster_config?dry_run=1", `{"upsert":{"log_retention_ms":-5},"remove":[]}`).
		expect(t, http.StatusBadRequest, &problems)
	if !strings.Contains(problems["log_retention_ms"], "minimum") {
		t.Fatalf("dry run of a bad value: %v", problems)
	}
	env.put("/v1/cluster_config?force=1", `{"upsert":{"whatever":1},"remove":[]}`).
		expectError(t, http.StatusBadRequest, "force is not supported")
	env.put("/v1/cluster_config?dry_run=perhaps", `{}`).expectError(t, http.StatusBadRequest, "dry_run")
	if calls := env.cluster.setCalls(); len(calls) != 0 {
		t.Fatalf("dry run or forced change reached the controller: %v", calls)
	}
}

func TestClusterConfigPutMalformedBodies(t *testing.T) {
	env := runServer(t, nil)
	cases := []struct{ name, body, want string }{
		{"empty", "", "empty body"},
		{"blank", "  \n", "empty body"},
		{"not json", "upsert=1", "invalid JSON"},
		{"truncated", `{"upsert": {"log_retention_ms": 1}`, "invalid JSON"},
		{"unknown field", `{"upserts": {"log_retention_ms": 1}}`, `unknown field "upserts"`},
		{"upsert not an object", `{"upsert": [1]}`, "invalid JSON"},
		{"remove not strings", `{"remove": [1]}`, "invalid JSON"},
		{"trailing data", `{"upsert": {}} {}`, "data after the object"},
		{"array", `[]`, "invalid JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env.put("/v1/cluster_config", c.body).expectError(t, http.StatusBadRequest, c.want)
		})
	}
	if calls := env.cluster.setCalls(); len(calls) != 0 {
		t.Fatalf("malformed change reached the controller: %v", calls)
	}
}

func TestClusterConfigPutBodyTooLarge(t *testing.T) {
	env := runServer(t, nil)
	big := `{"upsert": {"log_retention_ms": 1}, "remove": [` + strings.Repeat(`"x",`, 300_000) + `"x"]}`
	if len(big) <= 1<<20 {
		t.Fatalf("test body of %d bytes is not over 1 MiB", len(big))
	}
	// With a Content-Length, refused before reading.
	env.put("/v1/cluster_config", big).expectError(t, http.StatusRequestEntityTooLarge, "over the limit")
	// Chunked, refused once the limit is crossed.
	chunked := io.MultiReader(strings.NewReader(big))
	env.do(http.MethodPut, "/v1/cluster_config", chunked).
		expectError(t, http.StatusRequestEntityTooLarge, "over the limit")
	if calls := env.cluster.setCalls(); len(calls) != 0 {
		t.Fatalf("oversized change reached the controller")
	}
	// A body just under the limit is read (and here refused for its content).
	small := bytes.Repeat([]byte(" "), 1<<20-2)
	copy(small, `{}`)
	var res configWriteResult
	env.do(http.MethodPut, "/v1/cluster_config", bytes.NewReader(small)).expect(t, http.StatusOK, &res)
}

func TestClusterConfigPutControllerErrors(t *testing.T) {
	env := runServer(t, func(c *Config) {
		c.IsUnavailable = func(err error) bool { return errors.Is(err, errUnavailable) }
	})
	cases := []struct {
		err    error
		status int
	}{
		{fmt.Errorf("propose: %w", errUnavailable), http.StatusServiceUnavailable},
		{fmt.Errorf("apply: %w", context.DeadlineExceeded), http.StatusGatewayTimeout},
		{errors.New("disk on fire"), http.StatusInternalServerError},
	}
	for _, c := range cases {
		env.cluster.set(func(f *fakeCluster) { f.failWith = c.err })
		env.put("/v1/cluster_config", `{"upsert":{"log_retention_ms":5},"remove":[]}`).
			expectError(t, c.status, c.err.Error())
	}
}
