package admin

import (
	"net/http"
	"testing"
)

func TestReadyFlipsWithShards(t *testing.T) {
	env := runServer(t, nil)
	cases := []struct {
		serving, total int
		status         int
		want           string
	}{
		{0, 0, http.StatusServiceUnavailable, "booting"}, // no shard started yet
		{0, 2, http.StatusServiceUnavailable, "booting"},
		{1, 2, http.StatusServiceUnavailable, "booting"},
		{2, 2, http.StatusOK, "ready"},
		{1, 2, http.StatusServiceUnavailable, "booting"}, // a shard crashed
		{2, 2, http.StatusOK, "ready"},                   // and came back
	}
	for _, c := range cases {
		env.health.setShards(c.serving, c.total)
		var body map[string]string
		env.get("/v1/status/ready").expect(t, c.status, &body)
		if len(body) != 1 || body["status"] != c.want {
			t.Errorf("%d of %d shards serving: body %v, want {\"status\": %q}", c.serving, c.total, body, c.want)
		}
	}
}

func TestReadyHead(t *testing.T) {
	env := runServer(t, nil)
	env.health.setShards(0, 1)
	if r := env.do(http.MethodHead, "/v1/status/ready", nil); r.status != http.StatusServiceUnavailable || len(r.body) != 0 {
		t.Fatalf("HEAD while booting: status %d body %q, want 503 and no body", r.status, r.body)
	}
	env.health.setShards(1, 1)
	if r := env.do(http.MethodHead, "/v1/status/ready", nil); r.status != http.StatusOK {
		t.Fatalf("HEAD when ready: status %d, want 200", r.status)
	}
}
