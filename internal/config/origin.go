package config

import "strings"

// Origins let a problem found by Validate point at the line, variable or flag
// that set the bad value, not just at the key. Each layer of Load records, for
// every key path it sets, where the value came from. Paths use the file's
// spelling: "redpanda.smp", "redpanda.kafka_api[0].port", "cluster.<name>".

// setOrigin records that the value at path came from src. Anything recorded
// below path (list elements, fields) is forgotten: a later layer that replaces
// a whole list also replaces where its elements came from.
func (c *Config) setOrigin(path, src string) {
	if c.origins == nil {
		c.origins = map[string]string{}
	}
	for p := range c.origins {
		if isUnder(p, path) {
			delete(c.origins, p)
		}
	}
	c.origins[path] = src
}

// origin returns where the value at path came from: the record for path or,
// failing that, for its nearest parent ("redpanda.kafka_api[0].port" falls back
// to "redpanda.kafka_api[0]", then "redpanda.kafka_api"). "" means a built-in
// default or a value set in code.
func (c *Config) origin(path string) string {
	for p := path; p != ""; p = parentPath(p) {
		if src, ok := c.origins[p]; ok {
			return src
		}
	}
	return ""
}

// isUnder reports whether p is path itself or a key below it.
func isUnder(p, path string) bool {
	return p == path || strings.HasPrefix(p, path+".") || strings.HasPrefix(p, path+"[")
}

// parentPath strips the last ".key" or "[i]" from p.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}
