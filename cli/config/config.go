// Package config resolves where the operator commands connect: the Kafka
// brokers, the admin API, credentials and TLS. Every noun command (topic,
// cluster) registers the same flags with AddFlags and calls Load once per
// invocation; the result is a plain Config, built in one explicit merge step
// with the precedence
//
//	flags (--brokers, --admin-url) > -X key=value > environment > profile > defaults
//
// The profile is ~/.config/ailurus/profile.yaml (or --profile FILE, or
// AILURUS_PROFILE), in the shape
//
//	brokers: [127.0.0.1:9092]
//	admin: [http://127.0.0.1:9644]
//	user: ...
//	pass: ...
//	sasl_mechanism: SCRAM-SHA-256
//	tls: {enabled: true, ca: /path/ca.pem, cert: ..., key: ..., insecure_skip_verify: false}
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Defaults: the local node as `ailurus start --dev` serves it.
const (
	DefaultBroker    = "127.0.0.1:9092"
	DefaultAdmin     = "http://127.0.0.1:9644"
	DefaultTimeout   = 10 * time.Second
	EnvBrokers       = "AILURUS_BROKERS"
	EnvAdminHosts    = "AILURUS_ADMIN_HOSTS"
	EnvUser          = "AILURUS_USER"
	EnvPass          = "AILURUS_PASS"
	EnvSASLMechanism = "AILURUS_SASL_MECHANISM"
	EnvProfile       = "AILURUS_PROFILE"
)

// Sentinel errors.
var (
	// ErrBadX is a -X argument that is not key=value or names an unknown key.
	ErrBadX = errors.New("bad -X option")
	// ErrBadProfile is a profile file that cannot be read or parsed.
	ErrBadProfile = errors.New("bad profile")
)

// TLS is the client TLS setup; zero means plaintext.
type TLS struct {
	Enabled            bool   `yaml:"enabled"`
	CA                 string `yaml:"ca"`   // PEM file; empty: system roots
	Cert               string `yaml:"cert"` // client certificate PEM file (mTLS)
	Key                string `yaml:"key"`  // client key PEM file (mTLS)
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Config is the resolved connection setup for one command invocation.
type Config struct {
	Brokers       []string      // host:port seeds
	AdminHosts    []string      // admin API base URLs, http(s)://host:port
	User, Pass    string        // SASL credentials; empty user: no SASL
	SASLMechanism string        // PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
	TLS           TLS           // Kafka and admin API TLS
	Timeout       time.Duration // per-request / dial timeout; >0
}

// profile is the file shape; every field optional.
type profile struct {
	Brokers       []string `yaml:"brokers"`
	Admin         []string `yaml:"admin"`
	User          string   `yaml:"user"`
	Pass          string   `yaml:"pass"`
	SASLMechanism string   `yaml:"sasl_mechanism"`
	TLS           *TLS     `yaml:"tls"`
}

// Flags are the raw connection flags of a command, filled by pflag.
type Flags struct {
	Brokers  []string
	AdminURL []string
	X        []string
	Profile  string
	Timeout  time.Duration
}

// Sources is everything Load merges; Env and Home are seams for tests.
type Sources struct {
	Flags Flags
	Env   func(string) string // os.Getenv
	Home  string              // user config dir base; "" = os.UserHomeDir
}

// DefaultProfilePath is where the profile is looked for.
func DefaultProfilePath(home string) string {
	return filepath.Join(home, ".config", "ailurus", "profile.yaml")
}

// Load merges defaults, profile, environment, -X and flags, in that order,
// each later source overriding an earlier one field by field.
func Load(s Sources) (*Config, error) {
	if s.Env == nil {
		s.Env = os.Getenv
	}
	c := &Config{
		Brokers:    []string{DefaultBroker},
		AdminHosts: []string{DefaultAdmin},
		Timeout:    DefaultTimeout,
	}

	// Profile.
	path, explicit := s.Flags.Profile, s.Flags.Profile != ""
	if !explicit {
		if p := s.Env(EnvProfile); p != "" {
			path, explicit = p, true
		}
	}
	if !explicit {
		home := s.Home
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		if home != "" {
			path = DefaultProfilePath(home)
		}
	}
	if path != "" {
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			var p profile
			if err := yaml.Unmarshal(b, &p); err != nil {
				return nil, fmt.Errorf("%w %s: %w (fix or remove the file)", ErrBadProfile, path, err)
			}
			p.apply(c)
		case explicit || !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("%w: %w", ErrBadProfile, err)
		}
	}

	// Environment.
	if v := s.Env(EnvBrokers); v != "" {
		c.Brokers = splitList(v)
	}
	if v := s.Env(EnvAdminHosts); v != "" {
		c.AdminHosts = splitList(v)
	}
	if v := s.Env(EnvUser); v != "" {
		c.User = v
	}
	if v := s.Env(EnvPass); v != "" {
		c.Pass = v
	}
	if v := s.Env(EnvSASLMechanism); v != "" {
		c.SASLMechanism = v
	}

	// -X key=value, then the dedicated flags.
	var errs []error
	for _, kv := range s.Flags.X {
		if err := c.setX(kv); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(s.Flags.Brokers) > 0 {
		c.Brokers = splitList(strings.Join(s.Flags.Brokers, ","))
	}
	if len(s.Flags.AdminURL) > 0 {
		c.AdminHosts = splitList(strings.Join(s.Flags.AdminURL, ","))
	}
	if s.Flags.Timeout > 0 {
		c.Timeout = s.Flags.Timeout
	}
	for i, h := range c.AdminHosts {
		c.AdminHosts[i] = c.normalizeAdmin(h)
	}
	return c, nil
}

func (p profile) apply(c *Config) {
	if len(p.Brokers) > 0 {
		c.Brokers = p.Brokers
	}
	if len(p.Admin) > 0 {
		c.AdminHosts = p.Admin
	}
	if p.User != "" {
		c.User = p.User
	}
	if p.Pass != "" {
		c.Pass = p.Pass
	}
	if p.SASLMechanism != "" {
		c.SASLMechanism = p.SASLMechanism
	}
	if p.TLS != nil {
		c.TLS = *p.TLS
	}
}

// XKeys lists the keys -X accepts, for help text.
var XKeys = []string{"brokers", "admin.hosts", "user", "pass", "sasl.mechanism",
	"tls.enabled", "tls.ca", "tls.cert", "tls.key", "tls.insecure_skip_verify", "timeout"}

func (c *Config) setX(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok {
		return fmt.Errorf("%w %q: want key=value, keys: %s", ErrBadX, kv, strings.Join(XKeys, ", "))
	}
	var err error
	switch strings.ToLower(strings.TrimSpace(k)) {
	case "brokers":
		c.Brokers = splitList(v)
	case "admin.hosts":
		c.AdminHosts = splitList(v)
	case "user":
		c.User = v
	case "pass":
		c.Pass = v
	case "sasl.mechanism":
		c.SASLMechanism = v
	case "tls.enabled":
		c.TLS.Enabled, err = strconv.ParseBool(v)
	case "tls.ca":
		c.TLS.CA, c.TLS.Enabled = v, true
	case "tls.cert":
		c.TLS.Cert, c.TLS.Enabled = v, true
	case "tls.key":
		c.TLS.Key, c.TLS.Enabled = v, true
	case "tls.insecure_skip_verify":
		c.TLS.InsecureSkipVerify, err = strconv.ParseBool(v)
		c.TLS.Enabled = c.TLS.Enabled || c.TLS.InsecureSkipVerify
	case "timeout":
		c.Timeout, err = time.ParseDuration(v)
	default:
		return fmt.Errorf("%w: unknown key %q, known keys: %s", ErrBadX, k, strings.Join(XKeys, ", "))
	}
	if err != nil {
		return fmt.Errorf("%w %s: %w", ErrBadX, kv, err)
	}
	return nil
}

// normalizeAdmin turns "host:port" into a URL, with https when TLS is on.
func (c *Config) normalizeAdmin(h string) string {
	h = strings.TrimRight(strings.TrimSpace(h), "/")
	if strings.HasPrefix(h, "http://") || strings.HasPrefix(h, "https://") {
		return h
	}
	if c.TLS.Enabled {
		return "https://" + h
	}
	return "http://" + h
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
