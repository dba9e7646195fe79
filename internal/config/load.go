package config

import (
	"errors"
	"io/fs"
	"maps"
	"os"

	"github.com/spf13/pflag"
)

// LoadOptions says where Load finds each layer. Everything is passed in, so
// tests need neither files in /etc nor a modified process environment.
type LoadOptions struct {
	// Path is the YAML file. "" means the --config flag if given, else
	// DefaultPath; a missing file at DefaultPath is not an error (defaults
	// apply), a missing explicit file is.
	Path string
	// Dev starts from DevConfig(DevDir) instead of DefaultConfig and skips
	// DefaultPath (a file given by Path or --config is still read). The --dev
	// flag sets it too.
	Dev bool
	// DevDir is the developer-mode state root; "" means DefaultDevDir.
	DevDir string
	// Getenv looks up AILURUS_* variables: os.Getenv in production. nil: no
	// environment layer.
	Getenv func(string) string
	// Flags is the flag set RegisterFlags registered on, after Parse. nil: no
	// flag layer.
	Flags *pflag.FlagSet
	// ReadFile reads the YAML file; nil means os.ReadFile.
	ReadFile func(name string) ([]byte, error)
}

// Load builds the node configuration in one explicit merge, later layers
// winning: defaults (DefaultConfig, or DevConfig with Dev), then the file,
// then the environment, then flags. It then validates the result.
//
// On any problem (unreadable file, YAML syntax, unknown key, wrong type, bad
// environment or flag value, failed validation) it returns nil and a
// *ValidationError listing every problem, one per line. Warnings are not
// errors: call Config.Warnings on the result. Cluster values in the result are
// normalized (see ParseClusterProperty).
func Load(opts LoadOptions) (*Config, error) {
	var ps problems
	path, explicit := opts.Path, opts.Path != ""
	if f := flagChanged(opts.Flags, FlagConfig); !explicit && f != nil {
		path, explicit = f.Value.String(), true
	}
	if !explicit {
		path = DefaultPath
	}
	dev := opts.Dev
	if v, set := flagBool(opts.Flags, FlagDev); set {
		dev = dev || v
	}

	c := DefaultConfig()
	if dev {
		dir := opts.DevDir
		if dir == "" {
			dir = DefaultDevDir
		}
		c = DevConfig(dir)
	}
	if explicit || !dev {
		loadFile(&c, path, explicit, opts.ReadFile, &ps)
	}
	if opts.Getenv != nil {
		applyEnv(&c, opts.Getenv, &ps)
	}
	applyFlags(&c, opts.Flags, &ps)

	var ve *ValidationError
	if err := c.Validate(); errors.As(err, &ve) {
		ps = append(ps, ve.Problems...)
	}
	if len(ps) > 0 {
		return nil, ps.err()
	}
	c.Cluster = normalizeCluster(c.Cluster)
	return &c, nil
}

// loadFile applies the file at path, if there is one.
func loadFile(c *Config, path string, explicit bool, read func(string) ([]byte, error), ps *problems) {
	if read == nil {
		read = os.ReadFile
	}
	data, err := read(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !explicit {
			return // no file at the default path: defaults, env and flags
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		ps.add(path, "", "cannot read the configuration file: %v", err)
		return
	}
	c.file = path
	decodeFile(c, path, data, ps)
}

// normalizeCluster returns m with every value in canonical form. Call it only
// on values that passed validation.
func normalizeCluster(m map[string]any) map[string]any {
	out := maps.Clone(m)
	for k, v := range out {
		if n, err := ParseClusterProperty(k, v); err == nil {
			out[k] = n
		}
	}
	return out
}
