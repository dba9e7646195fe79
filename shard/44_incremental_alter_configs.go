package shard

// IncrementalAlterConfigs v0-v1: per config, SET a value, DELETE it (back
// to its default), or APPEND to / SUBTRACT from a list config
// (cleanup.policy...; on the current value, the default when unset).
// Topics (resource type 2): names must be topic configs of the table
// (logoptions.go), or keys already stored for DELETE, and values valid;
// the topic's configs after the change must be options the partition log
// accepts. Anything else is INVALID_CONFIG with a message and nothing
// changes. Open partitions pick the change up (see followLogOptions).
// Brokers (type 4, "" or a broker id): cluster properties, checked as the
// admin API checks them; APPEND and SUBTRACT are INVALID_CONFIG (no
// cluster property is a list). validate_only checks without changing
// anything. A resource or config named twice, or an unknown operation, is
// INVALID_REQUEST.

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/internal/metadata"
)

func init() { regKey(kmsg.IncrementalAlterConfigs, 0, 1, handleIncrementalAlterConfigs) }

func handleIncrementalAlterConfigs(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.IncrementalAlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	named := make(map[resourceKey]int, len(req.Resources))
	for _, r := range req.Resources {
		named[resourceKey{r.ResourceType, r.ResourceName}]++
	}
	for _, r := range req.Resources {
		rr := kmsg.NewIncrementalAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = r.ResourceType, r.ResourceName
		var code int16
		var msg string
		if named[resourceKey{r.ResourceType, r.ResourceName}] > 1 {
			code, msg = errDuplicateResource.code, errDuplicateResource.msg
		} else {
			st := s.cfg.Catalog.State()
			build := func(current func(string) (string, bool)) (configChange, *alterError) {
				return incrementalChange(st.ClusterConfig, r, current)
			}
			code, msg = s.alterResource(ctx, st, r.ResourceType, r.ResourceName, build, req.ValidateOnly)
		}
		rr.ErrorCode = code
		if msg != "" {
			rr.ErrorMessage = &msg
		}
		resp.Resources = append(resp.Resources, rr)
	}
	return resp, nil
}

// incrementalChange turns one resource's operations into a change.
func incrementalChange(cluster metadata.ClusterConfig, r kmsg.IncrementalAlterConfigsRequestResource, current func(string) (string, bool)) (configChange, *alterError) {
	topic := r.ResourceType == kmsg.ConfigResourceTypeTopic
	ch := configChange{set: make(map[string]string, len(r.Configs))}
	seen := make(map[string]bool, len(r.Configs))
	for _, c := range r.Configs {
		if seen[c.Name] {
			return ch, duplicateConfig(c.Name)
		}
		seen[c.Name] = true
		switch c.Op {
		case kmsg.IncrementalAlterConfigOpSet:
			var v string
			var aerr *alterError
			if topic {
				v, aerr = topicValue(c.Name, c.Value)
			} else {
				v, aerr = clusterValue(c.Name, c.Value)
			}
			if aerr != nil {
				return ch, aerr
			}
			ch.set[c.Name] = v
		case kmsg.IncrementalAlterConfigOpDelete:
			if !knownConfig(r.ResourceType, c.Name, current) {
				if topic {
					return ch, invalidConfig("unknown topic config %q", c.Name)
				}
				_, aerr := clusterValue(c.Name, nil) // words the unknown name
				return ch, aerr
			}
			ch.del = append(ch.del, c.Name)
		case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
			v, aerr := listEdit(cluster, topic, c, current)
			if aerr != nil {
				return ch, aerr
			}
			ch.set[c.Name] = v
		default:
			return ch, &alterError{kerr.InvalidRequest.Code, "unknown operation " + strconv.Itoa(int(c.Op)) + " for " + strconv.Quote(c.Name)}
		}
	}
	return ch, nil
}

// listEdit applies APPEND or SUBTRACT to a list topic config's current
// value (its default when the topic does not set it) and returns the new
// value in canonical form.
func listEdit(cluster metadata.ClusterConfig, topic bool, c kmsg.IncrementalAlterConfigsRequestResourceConfig, current func(string) (string, bool)) (string, *alterError) {
	op := "APPEND"
	if c.Op == kmsg.IncrementalAlterConfigOpSubtract {
		op = "SUBTRACT"
	}
	if !topic {
		return "", invalidConfig("%s: %s applies to list configs, and no cluster property is a list", c.Name, op)
	}
	tc, ok := lookupTopicConfig(c.Name)
	if !ok {
		return "", invalidConfig("unknown topic config %q", c.Name)
	}
	if tc.typ != kmsg.ConfigTypeList {
		return "", invalidConfig("%s: %s applies to list configs only", c.Name, op)
	}
	if c.Value == nil {
		return "", invalidConfig("%s: null value", c.Name)
	}
	cur, set := current(c.Name)
	if !set {
		cur, _ = tc.defaultValue(cluster)
	}
	items := splitList(cur)
	for _, it := range splitList(*c.Value) {
		has := slices.Contains(items, it)
		switch {
		case op == "APPEND" && !has:
			items = append(items, it)
		case op == "SUBTRACT" && has:
			items = slices.DeleteFunc(items, func(x string) bool { return x == it })
		}
	}
	v, err := tc.parse(strings.Join(items, ","))
	if err != nil {
		return "", invalidConfig("%v", err)
	}
	return v, nil
}
