package admin

import (
	"github.com/ailurus/ailurus/internal/config"
)

// Cluster property values travel as JSON on the API and are stored as text in
// metadata.ClusterConfig. The text is the canonical value of
// config.ParseClusterProperty: "true"/"false", a decimal integer, the string
// itself, or "null" for the null of a nullable property (no nullable string
// property exists, so "null" is never ambiguous). metadata.ClusterConfig.Int
// reads these integers back as they are.
//

// clusterValue reads a stored text back as the property's canonical value.
func clusterValue(p config.ClusterProperty, text string) (any, error) {
	if p.Nullable && text == "null" {
		return nil, nil
	}
	return config.ParseClusterProperty(p.Name, text)
}

// effectiveValue is the value of p given the stored configuration: the
// stored one, else the default. set reports whether a value was stored; a
// stored text that no longer parses (written by another version) is returned
// as the raw string, with err saying why.
func effectiveValue(p config.ClusterProperty, stored map[string]string) (v any, set bool, err error) {
	text, ok := stored[p.Name]
	if !ok {
		return p.Default, false, nil
	}
	v, err = clusterValue(p, text)
	if err != nil {
		return text, true, err
	}
	return v, true, nil
}
