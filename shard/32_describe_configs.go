package shard

// DescribeConfigs v0-v4.
//
// Topics (resource type 2): every config of the topic config table
// (logoptions.go) with the topic's value, source DYNAMIC_TOPIC_CONFIG, or
// else its default, source DEFAULT_CONFIG; the default is the cluster
// property the table names (log_segment_size for segment.bytes...) when
// there is one, exactly what the partition log runs with. Keys stored on
// the topic that the table does not know are listed as set, type STRING.
// An unknown topic is UNKNOWN_TOPIC_OR_PARTITION.
//
// Brokers (type 4, name "" for the cluster-wide defaults or a broker id):
// the cluster properties, which are cluster-wide: set ones with source
// DYNAMIC_DEFAULT_BROKER_CONFIG, the others DEFAULT_CONFIG with their
// default; null values are null. Other names are INVALID_REQUEST, other
// resource types too.
//
// With IncludeSynonyms (v1+) each config lists where its value comes from,
// most preferred first: the topic's value, the cluster property behind the
// default (set, then its built-in default). With IncludeDocumentation (v3+)
// each carries its description. ConfigNames filters; names not known are
// left out, as Kafka does.

import (
	"context"
	"maps"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/config"
	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/internal/metadata"
)

func init() { regKey(kmsg.DescribeConfigs, 0, 4, handleDescribeConfigs) }

func handleDescribeConfigs(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	st := s.cfg.Catalog.State()
	d := configDescriber{synonyms: req.Version >= 1 && req.IncludeSynonyms, docs: req.Version >= 3 && req.IncludeDocumentation}
	for _, r := range req.Resources {
		rr := kmsg.NewDescribeConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = r.ResourceType, r.ResourceName
		d.names = r.ConfigNames
		var msg string
		switch r.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			t, ok := st.Topic(r.ResourceName)
			if !ok {
				rr.ErrorCode, msg = kerr.UnknownTopicOrPartition.Code, "unknown topic "+strconv.Quote(r.ResourceName)
				break
			}
			rr.Configs = d.topic(st.ClusterConfig, t)
		case kmsg.ConfigResourceTypeBroker:
			if rr.ErrorCode, msg = checkBrokerResource(st, r.ResourceName); rr.ErrorCode == 0 {
				rr.Configs = d.cluster(st.ClusterConfig)
			}
		default:
			rr.ErrorCode, msg = kerr.InvalidRequest.Code, "resource type "+strconv.Itoa(int(r.ResourceType))+" is not supported"
		}
		if msg != "" {
			rr.ErrorMessage = &msg
		}
		resp.Resources = append(resp.Resources, rr)
	}
	return resp, nil
}

// configDescriber builds the configs of one resource.
type configDescriber struct {
	synonyms, docs bool
	names          []string // null: all
}

func (d *configDescriber) wanted(name string) bool {
	return d.names == nil || slices.Contains(d.names, name)
}

func (d *configDescriber) entry(name string, value *string, source kmsg.ConfigSource, typ kmsg.ConfigType, doc string) kmsg.DescribeConfigsResponseResourceConfig {
	c := kmsg.NewDescribeConfigsResponseResourceConfig()
	c.Name, c.Value, c.Source, c.ConfigType = name, value, source, typ
	c.IsDefault = source == kmsg.ConfigSourceDefaultConfig
	if d.docs && doc != "" {
		c.Documentation = &doc
	}
	return c
}

func (d *configDescriber) synonym(c *kmsg.DescribeConfigsResponseResourceConfig, name string, value *string, source kmsg.ConfigSource) {
	if !d.synonyms {
		return
	}
	sy := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
	sy.Name, sy.Value, sy.Source = name, value, source
	c.ConfigSynonyms = append(c.ConfigSynonyms, sy)
}

func (d *configDescriber) topic(cluster metadata.ClusterConfig, t *metadata.Topic) []kmsg.DescribeConfigsResponseResourceConfig {
	out := make([]kmsg.DescribeConfigsResponseResourceConfig, 0, len(topicConfigs))
	for i := range topicConfigs {
		tc := &topicConfigs[i]
		if !d.wanted(tc.name) {
			continue
		}
		var c kmsg.DescribeConfigsResponseResourceConfig
		if v, set := t.Configs[tc.name]; set {
			c = d.entry(tc.name, &v, kmsg.ConfigSourceDynamicTopicConfig, tc.typ, tc.doc)
			d.synonym(&c, tc.name, &v, kmsg.ConfigSourceDynamicTopicConfig)
		} else {
			v, _ := tc.defaultValue(cluster)
			c = d.entry(tc.name, &v, kmsg.ConfigSourceDefaultConfig, tc.typ, tc.doc)
		}
		if tc.cluster != "" {
			if p, ok := config.LookupClusterProperty(tc.cluster); ok {
				d.clusterSynonyms(&c, p, cluster)
			}
		} else {
			def := tc.builtin()
			d.synonym(&c, tc.name, &def, kmsg.ConfigSourceDefaultConfig)
		}
		out = append(out, c)
	}
	for _, k := range slices.Sorted(maps.Keys(t.Configs)) {
		if _, known := lookupTopicConfig(k); known || !d.wanted(k) {
			continue
		}
		v := t.Configs[k]
		c := d.entry(k, &v, kmsg.ConfigSourceDynamicTopicConfig, kmsg.ConfigTypeString, "")
		d.synonym(&c, k, &v, kmsg.ConfigSourceDynamicTopicConfig)
		out = append(out, c)
	}
	return out
}

func (d *configDescriber) cluster(cluster metadata.ClusterConfig) []kmsg.DescribeConfigsResponseResourceConfig {
	props := config.ClusterProperties()
	out := make([]kmsg.DescribeConfigsResponseResourceConfig, 0, len(props))
	for _, p := range props {
		if !d.wanted(p.Name) {
			continue
		}
		v, set := clusterPropValue(p, cluster)
		source := kmsg.ConfigSourceDefaultConfig
		if set {
			source = kmsg.ConfigSourceDynamicDefaultBrokerConfig
		}
		c := d.entry(p.Name, v, source, clusterConfigType(p.Type), p.Description)
		d.clusterSynonyms(&c, p, cluster)
		out = append(out, c)
	}
	return out
}

// clusterSynonyms adds the cluster property p: its set value, then its
// built-in default.
func (d *configDescriber) clusterSynonyms(c *kmsg.DescribeConfigsResponseResourceConfig, p config.ClusterProperty, cluster metadata.ClusterConfig) {
	if v, set := clusterPropValue(p, cluster); set {
		d.synonym(c, p.Name, v, kmsg.ConfigSourceDynamicDefaultBrokerConfig)
	}
	d.synonym(c, p.Name, nullable(config.ClusterValueText(p.Default)), kmsg.ConfigSourceDefaultConfig)
}

// clusterPropValue is p's value (nil for null) and whether it is set.
func clusterPropValue(p config.ClusterProperty, cluster metadata.ClusterConfig) (*string, bool) {
	if text, set := cluster[p.Name]; set {
		return nullable(text), true
	}
	return nullable(config.ClusterValueText(p.Default)), false
}

// nullable is a stored text as a Kafka config value: "null" is null.
func nullable(text string) *string {
	if text == "null" {
		return nil
	}
	return &text
}

func clusterConfigType(t config.PropertyType) kmsg.ConfigType {
	switch t {
	case config.TypeBool:
		return kmsg.ConfigTypeBoolean
	case config.TypeInt:
		return kmsg.ConfigTypeInt
	case config.TypeDurationMs, config.TypeBytes:
		return kmsg.ConfigTypeLong
	}
	return kmsg.ConfigTypeString
}

// checkBrokerResource accepts a broker resource name: "" (the cluster-wide
// defaults) or the id of a registered broker. Cluster properties are the
// same on every broker, so any of them answers for all.
func checkBrokerResource(st *metadata.State, name string) (int16, string) {
	if name == "" {
		return 0, ""
	}
	id, err := strconv.ParseInt(name, 10, 32)
	if err == nil {
		if _, ok := st.Broker(int32(id)); ok {
			return 0, ""
		}
	}
	return kerr.InvalidRequest.Code, "unknown broker " + strconv.Quote(name) + ": want a broker id, or empty for the cluster-wide configs"
}
