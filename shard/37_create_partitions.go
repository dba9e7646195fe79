package shard

// CreatePartitions v0-v3. Each topic's new partition count goes to the
// controller (validate_only honoured there), which places the new
// partitions on the least-loaded shards; the answer waits until this
// shard's metadata holds them. A count not above the current one, or above
// the maximum, is INVALID_PARTITIONS with a message; an unknown topic
// UNKNOWN_TOPIC_OR_PARTITION. Explicit replica assignments and a topic
// named twice in one request are INVALID_REQUEST, as Kafka answers.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/ctrlapi"
	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.CreatePartitions, 0, 3, handleCreatePartitions) }

func handleCreatePartitions(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	named := make(map[string]int, len(req.Topics))
	for _, t := range req.Topics {
		named[t.Topic]++
	}
	for _, t := range req.Topics {
		rt := kmsg.NewCreatePartitionsResponseTopic()
		rt.Topic = t.Topic
		var code int16
		var msg string
		switch {
		case named[t.Topic] > 1:
			code, msg = kerr.InvalidRequest.Code, "topic named more than once in the request"
		case len(t.Assignment) > 0:
			code, msg = kerr.InvalidRequest.Code, "explicit replica assignment is not supported: give a partition count"
		default:
			_, code, msg = s.control(ctx, ctrlapi.Request{Op: ctrlapi.OpCreatePartitions, CreatePartitions: &ctrlapi.CreatePartitions{
				Name: t.Topic, Count: t.Count, ValidateOnly: req.ValidateOnly,
			}})
		}
		rt.ErrorCode = code
		if msg != "" {
			rt.ErrorMessage = &msg
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}
