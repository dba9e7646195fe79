package config

import (
	"strings"

	"github.com/spf13/pflag"
)

// AddFlags registers the connection flags on fs (a noun's persistent flags)
// and returns where their values land.
func AddFlags(fs *pflag.FlagSet) *Flags {
	f := &Flags{}
	fs.StringSliceVar(&f.Brokers, "brokers", nil, "Kafka brokers, host:port, comma separated (default "+DefaultBroker+"; env "+EnvBrokers+")")
	fs.StringSliceVar(&f.AdminURL, "admin-url", nil, "admin API URLs (default "+DefaultAdmin+"; env "+EnvAdminHosts+")")
	fs.StringArrayVarP(&f.X, "config-opt", "X", nil, "override a setting, key=value; keys: "+strings.Join(XKeys, ", "))
	fs.StringVar(&f.Profile, "profile", "", "profile file (default ~/.config/ailurus/profile.yaml; env "+EnvProfile+")")
	fs.DurationVar(&f.Timeout, "timeout", 0, "how long to wait for the cluster before giving up (default 10s)")
	return f
}

// Load resolves f against the process environment and the user's profile.
func (f *Flags) Load() (*Config, error) { return Load(Sources{Flags: *f}) }
