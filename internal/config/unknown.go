package config

import "fmt"

// Redpanda settings Ailurus does not have, so that a redpanda.yaml brought
// over gets a precise message rather than a bare "unknown key". They are
// still problems: a setting that is silently not applied is worse than a node
// that refuses to start.
var (
	redpandaSections = map[string]bool{
		"pandaproxy": true, "pandaproxy_client": true, "schema_registry": true,
		"schema_registry_client": true, "rpk": true, "organization": true, "cluster_id": true,
	}
	redpandaNodeKeys = map[string]bool{
		"rack": true, "kafka_api_tls": true, "admin_api_tls": true, "rpc_server_tls": true,
		"empty_seed_starts_cluster": true, "cloud_storage_cache_directory": true,
		"crash_loop_limit": true, "recovery_mode_enabled": true, "fips_mode": true,
		"memory_allocation_warning_threshold": true, "emergency_disable_data_transforms": true,
	}
)

// unknownKey explains why key, found in the mapping at parent, is not
// accepted. known are the keys that mapping accepts.
func unknownKey(parent, key string, known []string) string {
	switch {
	case parent == "" && redpandaSections[key]:
		return fmt.Sprintf("unknown key %q: Redpanda's %s section has no Ailurus equivalent; remove it", key, key)
	case parent == "redpanda" && redpandaNodeKeys[key]:
		return fmt.Sprintf("unknown key %q: a Redpanda node property Ailurus does not support; remove it", key)
	case parent == "redpanda":
		if _, ok := LookupClusterProperty(key); ok {
			return fmt.Sprintf("unknown key %q: it is a cluster property; move it under the top-level cluster: section", key)
		}
	case parent == "cluster":
		_, err := ParseClusterProperty(key, nil) // unknown: the error names it and suggests
		return err.Error()
	}
	if s := suggest(key, known); s != "" {
		return fmt.Sprintf("unknown key %q (did you mean %q?)", key, s)
	}
	return fmt.Sprintf("unknown key %q", key)
}
