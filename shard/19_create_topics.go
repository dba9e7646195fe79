package shard

// CreateTopics v0-v7. Each topic goes to the controller (validate_only
// honoured there); the answer waits until this shard's metadata holds the
// topic. Configs are validated like AlterConfigs (INVALID_CONFIG with a
// message). Replication factor above 1 is refused with INVALID_REPLICATION_FACTOR
// and a message until replication exists. v5+ answers carry the topic ID,
// partitions, replication factor and configs.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/ctrlapi"
	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/internal/metadata"
)

func init() { regKey(kmsg.CreateTopics, 0, 7, handleCreateTopics) }

func handleCreateTopics(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewCreateTopicsResponseTopic()
		rt.Topic = t.Topic
		rt.NumPartitions, rt.ReplicationFactor = -1, -1
		if len(t.ReplicaAssignment) > 0 {
			rt.ErrorCode = kmsgInvalidRequest
			msg := "explicit replica assignment is not supported: give a partition count"
			rt.ErrorMessage = &msg
			resp.Topics = append(resp.Topics, rt)
			continue
		}
		// Configs are checked as the alter APIs check them, so a topic is
		// never created with a value its partitions could not open with.
		cfgs := map[string]string{}
		var bad *alterError
		for _, c := range t.Configs {
			v, aerr := topicValue(c.Name, c.Value)
			if aerr != nil {
				bad = aerr
				break
			}
			cfgs[c.Name] = v
		}
		if bad == nil {
			bad = checkTopicChange(s.cfg.Catalog.State().ClusterConfig, &metadata.Topic{}, configChange{set: cfgs})
		}
		if bad != nil {
			rt.ErrorCode = bad.code
			m := bad.msg
			rt.ErrorMessage = &m
			resp.Topics = append(resp.Topics, rt)
			continue
		}
		rep, code, msg := s.control(ctx, ctrlapi.Request{Op: ctrlapi.OpCreateTopic, CreateTopic: &ctrlapi.CreateTopic{
			Name: t.Topic, Partitions: t.NumPartitions, ReplicationFactor: t.ReplicationFactor,
			Configs: cfgs, ValidateOnly: req.ValidateOnly,
		}})
		rt.ErrorCode = code
		if msg != "" {
			m := msg
			rt.ErrorMessage = &m
		}
		if code == 0 && rep.Topic != nil {
			rt.TopicID = rep.Topic.ID
			rt.NumPartitions = int32(len(rep.Topic.Partitions))
			rt.ReplicationFactor = 1
			if len(rep.Topic.Partitions) > 0 {
				rt.ReplicationFactor = int16(len(rep.Topic.Partitions[0].Replicas))
			}
			for k, v := range rep.Topic.Configs {
				c := kmsg.NewCreateTopicsResponseTopicConfig()
				c.Name = k
				vv := v
				c.Value = &vv
				c.Source = 1 // DYNAMIC_TOPIC_CONFIG
				rt.Configs = append(rt.Configs, c)
			}
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}

const kmsgInvalidRequest = 42 // INVALID_REQUEST
