package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/ailurus/ailurus/cli/adminapi"
	"github.com/ailurus/ailurus/cli/out"
)

// The YAML form of the cluster config, shared by export, import and edit:
// one top-level key per property, with its effective value. Import and
// edit apply the difference against the node: changed values are upserted,
// properties the node has set but the file leaves out are removed (back to
// their defaults).

const yamlHeader = `# Ailurus cluster properties (effective values).
# Change values and apply with ` + "`ailurus cluster config import -f FILE`" + `.
# A property left out of the file goes back to its default.
`

// encodeYAML renders the properties, sorted by name.
func encodeYAML(props map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(yamlHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(plainNumbers(props)); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// plainNumbers turns json.Number values into int64 or float64, which YAML
// writes bare (it would quote a json.Number as a string).
func plainNumbers(props map[string]any) map[string]any {
	outm := make(map[string]any, len(props))
	for k, v := range props {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				v = i
			} else if f, err := n.Float64(); err == nil {
				v = f
			}
		}
		outm[k] = v
	}
	return outm
}

// decodeYAML reads a properties file; an empty file is an empty map.
func decodeYAML(data []byte) (map[string]any, error) {
	m := map[string]any{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("the file is not a YAML map of property: value: %w", err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// change is one property's difference.
type change struct {
	Key string `json:"key"`
	Old any    `json:"old"`
	New any    `json:"new"`
	Op  string `json:"op"` // "set" or "reset" (removed: back to the default)
}

// diffConfig compares the desired properties with the node's effective
// values (current) and those it has set away from their defaults (set).
func diffConfig(current, set, desired map[string]any) (upsert map[string]any, remove []string, changes []change) {
	upsert = map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(desired)) {
		cur, known := current[k]
		if known && same(cur, desired[k]) {
			continue
		}
		upsert[k] = desired[k]
		changes = append(changes, change{Key: k, Old: cur, New: desired[k], Op: "set"})
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		if _, kept := desired[k]; !kept {
			remove = append(remove, k)
			changes = append(changes, change{Key: k, Old: current[k], New: "(default)", Op: "reset"})
		}
	}
	return upsert, remove, changes
}

// same compares two values by their JSON meaning (1 == 1.0, json.Number == int).
func same(a, b any) bool {
	return canonical(a) == canonical(b)
}

func canonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var x any
	if json.Unmarshal(b, &x) != nil {
		return string(b)
	}
	b, _ = json.Marshal(x)
	return string(b)
}

// applyFile applies the difference between data (YAML) and the node's
// config, printing what changed to w. dry only prints.
func applyFile(ctx context.Context, s *shared, adm *adminapi.Client, data []byte, dry bool, w io.Writer) error {
	desired, err := decodeYAML(data)
	if err != nil {
		return err
	}
	current, err := adm.ClusterConfig(ctx, false)
	if err != nil {
		return err
	}
	set, err := adm.ClusterConfig(ctx, true)
	if err != nil {
		return err
	}
	upsert, remove, changes := diffConfig(current, set, desired)
	result := struct {
		Changes       []change `json:"changes"`
		ConfigVersion uint64   `json:"config_version,omitempty"`
		DryRun        bool     `json:"dry_run,omitempty"`
	}{Changes: changes, DryRun: dry}
	if result.Changes == nil {
		result.Changes = []change{}
	}
	if len(changes) > 0 && !dry {
		v, err := adm.PatchClusterConfig(ctx, upsert, remove)
		if err != nil {
			return fmt.Errorf("%w (nothing was changed; fix the file and try again)", err)
		}
		result.ConfigVersion = v
	}
	if s.format.JSON() {
		return out.WriteJSON(w, result)
	}
	if len(changes) == 0 {
		fmt.Fprintln(w, "No changes.")
		return nil
	}
	t := out.NewTable(w, "property", "old", "new")
	for _, c := range changes {
		t.Row(c.Key, scalarText(c.Old), scalarText(c.New))
	}
	t.Flush()
	if dry {
		fmt.Fprintln(w, "Dry run: nothing applied.")
	} else {
		fmt.Fprintf(w, "Successfully updated configuration. New configuration version is %d.\n", result.ConfigVersion)
	}
	return nil
}
