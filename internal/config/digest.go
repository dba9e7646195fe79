package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Digest returns a short fingerprint of the effective configuration: 12 hex
// digits of a SHA-256 of its values, for the startup banner and logs. The same
// values give the same digest on every node and every start; where a value came
// from (file, env, flag) does not count, and an empty list is the same as none.
// It does not resolve smp 0 to a CPU count.
func (c *Config) Digest() string {
	v := *c
	v.file, v.origins = "", nil
	if len(v.AdvertisedKafkaAPI) == 0 {
		v.AdvertisedKafkaAPI = nil
	}
	if len(v.SeedServers) == 0 {
		v.SeedServers = nil
	}
	if len(v.KafkaAPI) == 0 {
		v.KafkaAPI = nil
	}
	if len(v.Admin) == 0 {
		v.Admin = nil
	}
	if len(v.Cluster) == 0 {
		v.Cluster = nil
	}
	// encoding/json writes struct fields in order and map keys sorted.
	b, err := json.Marshal(v)
	if err != nil {
		// Only a cluster value JSON cannot hold (NaN, a channel) gets here, and
		// such a config does not validate; fmt also prints maps sorted.
		b = fmt.Appendf(nil, "%#v", v)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}
