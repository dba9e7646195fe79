package shard

// DeleteTopics v0-v6, by name or (v6) by topic ID. The controller removes
// the topic; each shard that owned partitions closes them and deletes their
// directories when it sees the change.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/ctrlapi"
	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/internal/metadata"
)

func init() { regKey(kmsg.DeleteTopics, 0, 6, handleDeleteTopics) }

func handleDeleteTopics(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	type target struct {
		name string
		id   [16]byte
	}
	var targets []target
	for _, n := range req.TopicNames {
		targets = append(targets, target{name: n})
	}
	for _, t := range req.Topics {
		tg := target{id: t.TopicID}
		if t.Topic != nil {
			tg.name = *t.Topic
		}
		targets = append(targets, tg)
	}
	for _, tg := range targets {
		rt := kmsg.NewDeleteTopicsResponseTopic()
		if tg.name != "" {
			n := tg.name
			rt.Topic = &n
		}
		rt.TopicID = tg.id
		_, code, msg := s.control(ctx, ctrlapi.Request{Op: ctrlapi.OpDeleteTopic,
			DeleteTopic: &ctrlapi.DeleteTopic{Name: tg.name, ID: metadata.UUID(tg.id)}})
		rt.ErrorCode = code
		if msg != "" {
			m := msg
			rt.ErrorMessage = &m
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}
