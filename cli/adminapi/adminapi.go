// Package adminapi is the operator commands' client for the node's admin
// API (the Redpanda-shaped HTTP API served by agent/admin). It tries each
// configured admin host in turn and turns HTTP failures into errors that
// name the host and say what to check.
package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/ailurus/ailurus/cli/config"
)

// Sentinel errors.
var (
	// ErrUnreachable: no admin host answered.
	ErrUnreachable = errors.New("cannot reach the admin API")
	// ErrRefused: the node answered with a 4xx (bad input).
	ErrRefused = errors.New("refused by the node")
)

// Client talks to the admin API; safe for one goroutine.
type Client struct {
	cfg  *config.Config
	http *http.Client
}

// New builds a client from the resolved connection config.
func New(cfg *config.Config) (*Client, error) {
	hc, err := cfg.HTTPClient()
	if err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, http: hc}, nil
}

// Broker is one entry of GET /v1/brokers (the fields the CLI shows).
type Broker struct {
	NodeID           int32  `json:"node_id"`
	NumCores         int    `json:"num_cores"`
	MembershipStatus string `json:"membership_status"`
	IsAlive          *bool  `json:"is_alive,omitempty"`
	Version          string `json:"version,omitempty"`
	KafkaAddress     string `json:"kafka_address,omitempty"`
	KafkaPort        int    `json:"kafka_port,omitempty"`
}

// Ready answers GET /v1/status/ready: the status text and whether it is "ready".
func (c *Client) Ready(ctx context.Context) (string, error) {
	var st struct {
		Status string `json:"status"`
	}
	// 503 "booting" is an answer, not a failure.
	if err := c.do(ctx, http.MethodGet, "/v1/status/ready", nil, &st, http.StatusServiceUnavailable); err != nil {
		return "", err
	}
	return st.Status, nil
}

// Brokers answers GET /v1/brokers.
func (c *Client) Brokers(ctx context.Context) ([]Broker, error) {
	var bs []Broker
	return bs, c.do(ctx, http.MethodGet, "/v1/brokers", nil, &bs)
}

// ClusterConfig answers GET /v1/cluster_config: every property's effective
// value, or with onlySet those that differ from their defaults. Numbers are
// json.Number, so large integers keep every digit.
func (c *Client) ClusterConfig(ctx context.Context, onlySet bool) (map[string]any, error) {
	m := map[string]any{}
	path := "/v1/cluster_config"
	if onlySet {
		path += "?include_defaults=false"
	}
	return m, c.do(ctx, http.MethodGet, path, nil, &m)
}

// ConfigStatus is one entry of GET /v1/cluster_config/status.
type ConfigStatus struct {
	NodeID        int32    `json:"node_id"`
	Restart       bool     `json:"restart"`
	ConfigVersion uint64   `json:"config_version"`
	Invalid       []string `json:"invalid"`
	Unknown       []string `json:"unknown"`
}

// ClusterConfigStatus answers GET /v1/cluster_config/status.
func (c *Client) ClusterConfigStatus(ctx context.Context) ([]ConfigStatus, error) {
	var st []ConfigStatus
	return st, c.do(ctx, http.MethodGet, "/v1/cluster_config/status", nil, &st)
}

// ClusterConfigKey answers GET /v1/cluster_config?key=NAME.
func (c *Client) ClusterConfigKey(ctx context.Context, key string) (any, error) {
	m := map[string]any{}
	if err := c.do(ctx, http.MethodGet, "/v1/cluster_config?key="+url.QueryEscape(key), nil, &m); err != nil {
		return nil, err
	}
	return m[key], nil
}

// PatchClusterConfig sends PUT /v1/cluster_config and returns the new version.
func (c *Client) PatchClusterConfig(ctx context.Context, upsert map[string]any, remove []string) (uint64, error) {
	if remove == nil {
		remove = []string{}
	}
	body, err := json.Marshal(map[string]any{"upsert": upsert, "remove": remove})
	if err != nil {
		return 0, err
	}
	var res struct {
		ConfigVersion uint64 `json:"config_version"`
	}
	return res.ConfigVersion, c.do(ctx, http.MethodPut, "/v1/cluster_config", body, &res)
}

// do runs one request against each admin host until one answers.
// okExtra lists non-2xx statuses whose body still decodes into out.
func (c *Client) do(ctx context.Context, method, path string, body []byte, out any, okExtra ...int) error {
	var errs []string
	for _, host := range c.cfg.AdminHosts {
		req, err := http.NewRequestWithContext(ctx, method, host+path, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("bad admin URL %q: %w", host, err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.cfg.User != "" {
			req.SetBasicAuth(c.cfg.User, c.cfg.Pass)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", host, err))
			continue
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: reading answer: %v", host, err))
			continue
		}
		ok := resp.StatusCode/100 == 2
		for _, s := range okExtra {
			ok = ok || resp.StatusCode == s
		}
		if !ok {
			return fmt.Errorf("%w: %s %s answered %d: %s", ErrRefused, method, path, resp.StatusCode, explain(data))
		}
		if out != nil {
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.UseNumber()
			if err := dec.Decode(out); err != nil {
				return fmt.Errorf("%s%s answered something that is not the expected JSON: %w", host, path, err)
			}
		}
		return nil
	}
	return fmt.Errorf("%w (%s): check that the node is running and that --admin-url, -X admin.hosts=... or %s points at its admin listener",
		ErrUnreachable, strings.Join(errs, "; "), config.EnvAdminHosts)
}

// explain turns an error body into one line: {"message":..} or, for a
// refused config change, "name: problem; ...".
func explain(data []byte) string {
	var eb struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &eb) == nil && eb.Message != "" {
		return eb.Message
	}
	var problems map[string]string
	if json.Unmarshal(data, &problems) == nil && len(problems) > 0 {
		keys := make([]string, 0, len(problems))
		for k := range problems {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+": "+problems[k])
		}
		return "invalid values: " + strings.Join(parts, "; ")
	}
	return strings.TrimSpace(string(data))
}
