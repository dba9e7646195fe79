package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The file is decoded by walking yaml.v3's node tree rather than by
// yaml.Unmarshal into a struct: the walk sees every key, so it reports every
// unknown or duplicated key with its full path and line (KnownFields names the
// Go type, not the key path, and yaml.v3 does not flag duplicate keys in a node
// tree), and it records where each value came from (origin.go).
//
// Shape (see README.md for an example):
//
//	redpanda:            node properties
//	  node_id, data_directory, smp, developer_mode, sidecar_cpu_quota_percent,
//	  sidecar_memory_max_bytes: scalars
//	  kafka_api, advertised_kafka_api, admin: a list of {name, address, port},
//	      or a single such mapping (Redpanda accepts both)
//	  rpc_server, advertised_rpc_api: {address, port}
//	  seed_servers: a list of {host: {address, port}}
//	cluster:             initial values of cluster properties, by name

// decodeFile applies the YAML in data on top of c, adding what is wrong to ps.
// name is the file's path, used in problem sources.
func decodeFile(c *Config, name string, data []byte, ps *problems) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) { // io.EOF: an empty file, all defaults
			*ps = append(*ps, syntaxProblem(name, err))
		}
		return
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		ps.add(fmt.Sprintf("%s:%d", name, extra.Line), "", "a second YAML document (---): put everything in one")
	}
	d := &fileDecoder{c: c, name: name, ps: ps}
	d.fields(doc.Content[0], "", map[string]fieldFunc{
		"redpanda": d.node,
		"cluster":  d.cluster,
	})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxProblem turns "yaml: line 3: mapping values are not allowed" into a
// problem whose source is file:3.
func syntaxProblem(name string, err error) Problem {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		return Problem{Source: name + ":" + m[1], Message: "YAML syntax: " + m[2]}
	}
	return Problem{Source: name, Message: "YAML syntax: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

// fieldFunc decodes the value node n found at key path.
type fieldFunc func(n *yaml.Node, path string)

type fileDecoder struct {
	c    *Config
	name string
	ps   *problems
}

// at is the origin of a node: "file:line".
func (d *fileDecoder) at(n *yaml.Node) string { return d.name + ":" + strconv.Itoa(n.Line) }

func (d *fileDecoder) problem(n *yaml.Node, path, format string, args ...any) {
	d.ps.add(d.at(n), path, format, args...)
}

// fields decodes a mapping whose keys are in known, and reports every other
// key. A null value (a key with nothing after it) is an empty mapping.
func (d *fileDecoder) fields(n *yaml.Node, path string, known map[string]fieldFunc) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.problem(n, path, "want a mapping (key: value lines), got %s", describeNode(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		p := joinPath(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			d.problem(k, p, "duplicate key (first on line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		f, ok := known[k.Value]
		if !ok {
			d.problem(k, p, "%s", unknownKey(path, k.Value, slices.Collect(maps.Keys(known))))
			continue
		}
		f(val, p)
	}
}

func (d *fileDecoder) node(n *yaml.Node, path string) {
	c := d.c
	d.fields(n, path, map[string]fieldFunc{
		"node_id":                   d.int(&c.NodeID),
		"data_directory":            d.string(&c.DataDirectory),
		"smp":                       d.int(&c.SMP),
		"developer_mode":            d.bool(&c.DeveloperMode),
		"sidecar_cpu_quota_percent": d.int(&c.SidecarCPUQuotaPercent),
		"sidecar_memory_max_bytes":  d.int64(&c.SidecarMemoryMaxBytes),
		"kafka_api":                 d.listeners(&c.KafkaAPI, KafkaPort),
		"advertised_kafka_api":      d.listeners(&c.AdvertisedKafkaAPI, KafkaPort),
		"admin":                     d.listeners(&c.Admin, AdminPort),
		"rpc_server":                d.address(&c.RPCServer),
		"advertised_rpc_api":        d.address(&c.AdvertisedRPCAPI),
		"seed_servers":              d.seeds(&c.SeedServers),
	})
}

// cluster stores each value as decoded; Validate checks names and values (so
// the admin API and the file share one set of rules) and Load normalizes them.
func (d *fileDecoder) cluster(n *yaml.Node, path string) {
	known := map[string]fieldFunc{}
	for _, name := range clusterPropNames() {
		known[name] = d.clusterValue(name)
	}
	d.fields(n, path, known)
}

func (d *fileDecoder) clusterValue(name string) fieldFunc {
	return func(n *yaml.Node, path string) {
		var v any
		if err := resolve(n).Decode(&v); err != nil {
			d.problem(n, path, "%v", err)
			return
		}
		m := maps.Clone(d.c.Cluster) // never write into a map a caller may share
		if m == nil {
			m = map[string]any{}
		}
		m[name] = v
		d.c.Cluster = m
		d.c.setOrigin(path, d.at(n))
	}
}

func (d *fileDecoder) int(dst *int) fieldFunc {
	return func(n *yaml.Node, path string) {
		var v int
		if d.scalar(n, path, "an integer", &v) {
			*dst = v
		}
	}
}

func (d *fileDecoder) int64(dst *int64) fieldFunc {
	return func(n *yaml.Node, path string) {
		var v int64
		if d.scalar(n, path, "an integer", &v) {
			*dst = v
		}
	}
}

func (d *fileDecoder) bool(dst *bool) fieldFunc {
	return func(n *yaml.Node, path string) {
		var v bool
		if d.scalar(n, path, "true or false", &v) {
			*dst = v
		}
	}
}

func (d *fileDecoder) string(dst *string) fieldFunc {
	return func(n *yaml.Node, path string) {
		var v string
		if d.scalar(n, path, "a string", &v) {
			*dst = v
		}
	}
}

// scalar decodes a non-null scalar into out and records its origin, or reports
// a problem and returns false.
func (d *fileDecoder) scalar(n *yaml.Node, path, want string, out any) bool {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || isNull(n) || n.Decode(out) != nil {
		d.problem(n, path, "want %s, got %s", want, describeNode(n))
		return false
	}
	d.c.setOrigin(path, d.at(n))
	return true
}

// listeners decodes a list of {name, address, port}, or one such mapping. The
// list replaces the previous one; a missing port is defPort.
func (d *fileDecoder) listeners(dst *[]Listener, defPort int) fieldFunc {
	return func(n *yaml.Node, path string) {
		items, ok := d.list(n, path, "{name, address, port}", true)
		if !ok {
			return // keep the previous list rather than report a half-read one twice
		}
		d.c.setOrigin(path, d.at(n))
		out := make([]Listener, 0, len(items))
		for i, it := range items {
			p := fmt.Sprintf("%s[%d]", path, i)
			l := Listener{Port: defPort}
			d.fields(it, p, map[string]fieldFunc{
				"name":    d.string(&l.Name),
				"address": d.string(&l.Address),
				"port":    d.int(&l.Port),
			})
			out = append(out, l)
		}
		*dst = out
	}
}

// address decodes {address, port} over the current value: a key left out
// keeps what the defaults had.
func (d *fileDecoder) address(dst *Address) fieldFunc {
	return func(n *yaml.Node, path string) {
		d.fields(n, path, map[string]fieldFunc{
			"address": d.string(&dst.Address),
			"port":    d.int(&dst.Port),
		})
	}
}

// seeds decodes a list of {host: {address, port}}; a missing port is 33145.
func (d *fileDecoder) seeds(dst *[]SeedServer) fieldFunc {
	return func(n *yaml.Node, path string) {
		items, ok := d.list(n, path, "{host: {address, port}}", false)
		if !ok {
			return
		}
		d.c.setOrigin(path, d.at(n))
		out := make([]SeedServer, 0, len(items))
		for i, it := range items {
			p := fmt.Sprintf("%s[%d]", path, i)
			s := SeedServer{Host: Address{Port: RPCPort}}
			d.fields(it, p, map[string]fieldFunc{
				"host": d.address(&s.Host),
			})
			out = append(out, s)
		}
		*dst = out
	}
}

// list returns the items of a sequence of mappings of the form item (null is
// an empty list). With single, a lone mapping is taken as a list of one. It
// reports every item that is not a mapping and then returns false.
func (d *fileDecoder) list(n *yaml.Node, path, item string, single bool) ([]*yaml.Node, bool) {
	n = resolve(n)
	switch {
	case isNull(n):
		return nil, true
	case n.Kind == yaml.MappingNode && single:
		return []*yaml.Node{n}, true
	case n.Kind != yaml.SequenceNode:
		d.problem(n, path, "want a list of %s, got %s", item, describeNode(n))
		return nil, false
	}
	ok := true
	for i, it := range n.Content {
		if it = resolve(it); it.Kind != yaml.MappingNode {
			d.problem(it, fmt.Sprintf("%s[%d]", path, i), "want a mapping %s, got %s", item, describeNode(it))
			ok = false
		}
	}
	return n.Content, ok
}

// resolve follows an alias (*name) to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describeNode says what a node is, for "got ..." messages.
func describeNode(n *yaml.Node) string {
	switch {
	case isNull(n):
		return "nothing (null)"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}
