package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func writeProfile(t *testing.T, home, body string) {
	t.Helper()
	p := DefaultProfilePath(home)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := Load(Sources{Env: env(nil), Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Brokers, []string{DefaultBroker}) || !slices.Equal(c.AdminHosts, []string{DefaultAdmin}) || c.Timeout != DefaultTimeout {
		t.Fatalf("defaults: %+v", c)
	}
}

// Each layer overrides the one below it: flags > -X > env > profile > default.
func TestLoadPrecedence(t *testing.T) {
	home := t.TempDir()
	writeProfile(t, home, "brokers: [profile:1]\nadmin: [profile:2]\nuser: puser\n")
	cases := []struct {
		name        string
		env         map[string]string
		flags       Flags
		broker, adm string
	}{
		{"profile", nil, Flags{}, "profile:1", "http://profile:2"},
		{"env over profile", map[string]string{EnvBrokers: "env:1", EnvAdminHosts: "env:2"}, Flags{}, "env:1", "http://env:2"},
		{"-X over env", map[string]string{EnvBrokers: "env:1"}, Flags{X: []string{"brokers=x:1", "admin.hosts=https://x:2"}}, "x:1", "https://x:2"},
		{"flags over -X", map[string]string{EnvBrokers: "env:1"}, Flags{X: []string{"brokers=x:1"}, Brokers: []string{"flag:1"}, AdminURL: []string{"http://flag:2"}}, "flag:1", "http://flag:2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(Sources{Flags: tc.flags, Env: env(tc.env), Home: home})
			if err != nil {
				t.Fatal(err)
			}
			if c.Brokers[0] != tc.broker || c.AdminHosts[0] != tc.adm {
				t.Fatalf("got brokers %v admin %v, want %s %s", c.Brokers, c.AdminHosts, tc.broker, tc.adm)
			}
			if c.User != "puser" {
				t.Fatalf("profile user lost: %q", c.User)
			}
		})
	}
}

func TestLoadListsAndTLS(t *testing.T) {
	c, err := Load(Sources{Env: env(nil), Home: t.TempDir(), Flags: Flags{
		Brokers: []string{"a:1, b:2"},
		X:       []string{"tls.enabled=true", "admin.hosts=h:9644", "timeout=3s", "sasl.mechanism=SCRAM-SHA-256"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Brokers, []string{"a:1", "b:2"}) {
		t.Fatalf("brokers %v", c.Brokers)
	}
	if c.AdminHosts[0] != "https://h:9644" || !c.TLS.Enabled || c.Timeout != 3*time.Second || c.SASLMechanism != "SCRAM-SHA-256" {
		t.Fatalf("got %+v", c)
	}
}

func TestLoadBadInput(t *testing.T) {
	for _, x := range []string{"nokey", "bogus=1", "tls.enabled=maybe", "timeout=soon"} {
		_, err := Load(Sources{Env: env(nil), Home: t.TempDir(), Flags: Flags{X: []string{x}}})
		if !errors.Is(err, ErrBadX) {
			t.Errorf("-X %s: got %v, want ErrBadX", x, err)
		}
	}
	home := t.TempDir()
	writeProfile(t, home, "brokers: [unclosed\n")
	if _, err := Load(Sources{Env: env(nil), Home: home}); !errors.Is(err, ErrBadProfile) {
		t.Errorf("broken profile: got %v", err)
	}
	if _, err := Load(Sources{Env: env(nil), Home: home, Flags: Flags{Profile: "/nonexistent/p.yaml"}}); !errors.Is(err, ErrBadProfile) {
		t.Errorf("missing explicit profile: got %v", err)
	}
}
