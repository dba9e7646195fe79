package shard

// AlterConfigs v0-v2, the legacy whole-state form: a resource's configs
// become exactly those given. Topics (resource type 2): every name must be
// a topic config of the table (logoptions.go) and every value valid for
// it, and the result must be options the partition log accepts; otherwise
// INVALID_CONFIG with a message and nothing changes. The controller then
// replaces the topic's configs; open partitions pick the change up (see
// followLogOptions). Brokers (type 4, "" or a broker id): cluster
// properties, checked as the admin API checks them; the properties not
// given go back to their defaults, as Kafka's AlterConfigs replaces a
// broker's dynamic configs (tools describe first and send them all back).
// A null value leaves a topic config out and sets a nullable cluster
// property to null. validate_only checks without changing anything. A
// resource or config named twice is INVALID_REQUEST.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.AlterConfigs, 0, 2, handleAlterConfigs) }

func handleAlterConfigs(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	named := make(map[resourceKey]int, len(req.Resources))
	for _, r := range req.Resources {
		named[resourceKey{r.ResourceType, r.ResourceName}]++
	}
	for _, r := range req.Resources {
		rr := kmsg.NewAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = r.ResourceType, r.ResourceName
		var code int16
		var msg string
		if named[resourceKey{r.ResourceType, r.ResourceName}] > 1 {
			code, msg = errDuplicateResource.code, errDuplicateResource.msg
		} else {
			build := func(func(string) (string, bool)) (configChange, *alterError) {
				ch := configChange{set: make(map[string]string, len(r.Configs)), replace: true}
				seen := make(map[string]bool, len(r.Configs))
				for _, c := range r.Configs {
					if seen[c.Name] {
						return ch, duplicateConfig(c.Name)
					}
					seen[c.Name] = true
					var v string
					var aerr *alterError
					if r.ResourceType == kmsg.ConfigResourceTypeTopic {
						if c.Value == nil {
							continue // left out: gone after the replace
						}
						v, aerr = topicValue(c.Name, c.Value)
					} else {
						v, aerr = clusterValue(c.Name, c.Value)
					}
					if aerr != nil {
						return ch, aerr
					}
					ch.set[c.Name] = v
				}
				return ch, nil
			}
			code, msg = s.alterResource(ctx, s.cfg.Catalog.State(), r.ResourceType, r.ResourceName, build, req.ValidateOnly)
		}
		rr.ErrorCode = code
		if msg != "" {
			rr.ErrorMessage = &msg
		}
		resp.Resources = append(resp.Resources, rr)
	}
	return resp, nil
}
