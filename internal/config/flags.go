package config

import (
	"strconv"

	"github.com/spf13/pflag"
)

// Flag names read by Load besides the per-property ones in settings.go.
const (
	FlagConfig = "config" // --config PATH: the YAML file
	FlagDev    = "dev"    // --dev: start from DevConfig
)

// RegisterFlags adds the flags of `ailurus start` to fs: --config, --dev, and
// one per overridable node property (--node-id, --data-directory, --smp,
// --kafka-addr, --advertise-kafka-addr, --admin-addr, --rpc-addr,
// --advertise-rpc-addr, --seeds). After fs.Parse, pass fs to Load as
// LoadOptions.Flags: only flags given on the command line override.
//
// Property flags take their value as text and Load parses it, so a bad value
// is reported with every other problem, naming the flag.
func RegisterFlags(fs *pflag.FlagSet) {
	fs.String(FlagConfig, "", "configuration file (default "+DefaultPath+")")
	fs.Bool(FlagDev, false, "developer mode: everything on 127.0.0.1, data in ./"+DefaultDevDir+", no root needed")
	for _, s := range settings {
		if s.flag == "" {
			continue
		}
		fs.Var(&textFlag{typ: s.typ, list: s.list}, s.flag, s.usage)
	}
}

// textFlag keeps a flag's text for Load to parse. A list flag given several
// times accumulates ("--seeds a --seeds b" is "a,b").
type textFlag struct {
	val, typ string
	list     bool
}

func (f *textFlag) String() string { return f.val }
func (f *textFlag) Type() string   { return f.typ }

func (f *textFlag) Set(s string) error {
	if f.list && f.val != "" {
		s = f.val + "," + s
	}
	f.val = s
	return nil
}

// applyFlags is the flag layer: each property flag given on the command line
// overrides its property.
func applyFlags(c *Config, fs *pflag.FlagSet, ps *problems) {
	for _, s := range settings {
		f := flagChanged(fs, s.flag)
		if f == nil {
			continue
		}
		src := "flag --" + s.flag
		if err := s.set(c, f.Value.String()); err != nil {
			ps.add(src, s.path, "%v", err)
			continue
		}
		c.setOrigin(s.path, src)
	}
}

// flagChanged returns the flag called name if it is registered on fs and was
// given on the command line, else nil.
func flagChanged(fs *pflag.FlagSet, name string) *pflag.Flag {
	if fs == nil || name == "" {
		return nil
	}
	if f := fs.Lookup(name); f != nil && f.Changed {
		return f
	}
	return nil
}

// flagBool returns the value of a boolean flag given on the command line.
func flagBool(fs *pflag.FlagSet, name string) (v, set bool) {
	f := flagChanged(fs, name)
	if f == nil {
		return false, false
	}
	v, err := strconv.ParseBool(f.Value.String())
	return v, err == nil
}
