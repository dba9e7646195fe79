package shard

// What AlterConfigs (33) and IncrementalAlterConfigs (44) share: checking
// names and values against the topic config table and the cluster property
// table, and sending the change to the controller.

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/config"
	"github.com/ailurus/ailurus/internal/ctrlapi"
	"github.com/ailurus/ailurus/internal/metadata"
)

// configChange is one resource's checked change: set holds canonical
// values. replace (AlterConfigs) drops every key not in set.
type configChange struct {
	set     map[string]string
	del     []string
	replace bool
}

// alterError is a resource's answer when its change is refused.
type alterError struct {
	code int16
	msg  string
}

func invalidConfig(format string, args ...any) *alterError {
	return &alterError{kerr.InvalidConfig.Code, fmt.Sprintf(format, args...)}
}

// alterResource checks a change of one resource and, unless validateOnly,
// applies it through the controller. It returns the code and message to
// answer with. Topic and broker resources are served; others are
// INVALID_REQUEST.
func (s *Shard) alterResource(ctx context.Context, st *metadata.State, typ kmsg.ConfigResourceType, name string,
	build func(current func(string) (string, bool)) (configChange, *alterError), validateOnly bool) (int16, string) {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		t, ok := st.Topic(name)
		if !ok {
			return kerr.UnknownTopicOrPartition.Code, "unknown topic " + strconv.Quote(name)
		}
		ch, aerr := build(func(k string) (string, bool) { v, ok := t.Configs[k]; return v, ok })
		if aerr == nil {
			aerr = checkTopicChange(st.ClusterConfig, t, ch)
		}
		if aerr != nil {
			return aerr.code, aerr.msg
		}
		_, code, msg := s.control(ctx, ctrlapi.Request{Op: ctrlapi.OpAlterTopicConfig, AlterTopicConfig: &ctrlapi.AlterTopicConfig{
			Name: name, Set: ch.set, Delete: ch.del, Replace: ch.replace, ValidateOnly: validateOnly,
		}})
		return code, msg
	case kmsg.ConfigResourceTypeBroker:
		if code, msg := checkBrokerResource(st, name); code != 0 {
			return code, msg
		}
		ch, aerr := build(func(k string) (string, bool) { v, ok := st.ClusterConfig[k]; return v, ok })
		if aerr != nil {
			return aerr.code, aerr.msg
		}
		if ch.replace {
			for k := range st.ClusterConfig {
				if _, keep := ch.set[k]; !keep {
					ch.del = append(ch.del, k)
				}
			}
		}
		if validateOnly || len(ch.set) == 0 && len(ch.del) == 0 {
			return 0, ""
		}
		_, code, msg := s.control(ctx, ctrlapi.Request{Op: ctrlapi.OpSetClusterConfig, SetClusterConfig: &ctrlapi.SetClusterConfig{
			Upsert: ch.set, Remove: ch.del,
		}})
		return code, msg
	}
	return kerr.InvalidRequest.Code, "resource type " + strconv.Itoa(int(typ)) + " is not supported"
}

// checkTopicChange checks the topic's configs as they would be after ch as
// a whole: the partition log must accept them (segment.bytes within its
// bounds, write caching with positive flush settings...).
func checkTopicChange(cluster metadata.ClusterConfig, t *metadata.Topic, ch configChange) *alterError {
	after := make(map[string]string, len(t.Configs)+len(ch.set))
	if !ch.replace {
		maps.Copy(after, t.Configs)
	}
	maps.Copy(after, ch.set)
	for _, k := range ch.del {
		delete(after, k)
	}
	if _, err := logOptions(cluster, after); err != nil {
		return invalidConfig("%v", err)
	}
	if ch.set["write.caching"] == "true" && cluster["write_caching_default"] == "disabled" {
		return invalidConfig("write.caching: write caching is disabled for the cluster (write_caching_default=disabled)")
	}
	return nil
}

// topicValue checks a value for a topic config and returns it in canonical
// form.
func topicValue(name string, v *string) (string, *alterError) {
	c, ok := lookupTopicConfig(name)
	if !ok {
		return "", invalidConfig("unknown topic config %q", name)
	}
	if v == nil {
		return "", invalidConfig("%s: null value", name)
	}
	out, err := c.parse(*v)
	if err != nil {
		return "", invalidConfig("%v", err)
	}
	return out, nil
}

// clusterValue checks a value for a cluster property and returns it as
// stored. Null (a null value, or "null") is accepted for nullable
// properties.
func clusterValue(name string, v *string) (string, *alterError) {
	p, ok := config.LookupClusterProperty(name)
	if !ok {
		_, err := config.ParseClusterProperty(name, nil) // words it, with a "did you mean"
		return "", invalidConfig("%v", err)
	}
	var raw any
	if v != nil && !(p.Nullable && strings.TrimSpace(*v) == "null") {
		raw = *v
	}
	out, err := config.ParseClusterProperty(name, raw)
	if err != nil {
		return "", invalidConfig("%s: %v", name, err)
	}
	return config.ClusterValueText(out), nil
}

// knownConfig reports whether name may be deleted from a resource: a
// config of the table, or a key stored on it anyway.
func knownConfig(typ kmsg.ConfigResourceType, name string, current func(string) (string, bool)) bool {
	if _, stored := current(name); stored {
		return true
	}
	if typ == kmsg.ConfigResourceTypeTopic {
		_, ok := lookupTopicConfig(name)
		return ok
	}
	_, ok := config.LookupClusterProperty(name)
	return ok
}

// resourceKey names a resource in duplicate checks.
type resourceKey struct {
	typ  kmsg.ConfigResourceType
	name string
}

var errDuplicateResource = &alterError{kerr.InvalidRequest.Code, "resource named more than once in the request"}

func duplicateConfig(name string) *alterError {
	return &alterError{kerr.InvalidRequest.Code, fmt.Sprintf("config %q named more than once for the resource", name)}
}
