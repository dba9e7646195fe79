package controller

import (
	"fmt"
	"maps"
)

// editConfig returns cur with set applied, then del removed, and whether
// anything changed. cur is not modified; the result is a new map (cur itself
// when nothing changed). Keys must be non-empty and not both set and deleted.
// Values are not interpreted here: the Kafka and admin handlers check them.
func editConfig[M ~map[string]string](cur M, set map[string]string, del []string) (M, bool, error) {
	for k := range set {
		if k == "" {
			return cur, false, fmt.Errorf("%w: empty key", ErrInvalidConfig)
		}
	}
	for _, k := range del {
		if k == "" {
			return cur, false, fmt.Errorf("%w: empty key", ErrInvalidConfig)
		}
		if _, ok := set[k]; ok {
			return cur, false, fmt.Errorf("%w: key %q is both set and removed", ErrInvalidConfig, k)
		}
	}
	changed := false
	for k, v := range set {
		if old, ok := cur[k]; !ok || old != v {
			changed = true
		}
	}
	for _, k := range del {
		if _, ok := cur[k]; ok {
			changed = true
		}
	}
	if !changed {
		return cur, false, nil
	}
	next := maps.Clone(cur)
	if next == nil {
		next = M{}
	}
	maps.Copy(next, set)
	for _, k := range del {
		delete(next, k)
	}
	return next, true, nil
}
