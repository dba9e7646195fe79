package shard

// Metadata v0-v12. Brokers from the controller's registry; topics with their
// IDs; every partition led by its first replica, leader epoch -1 (see below). Topics that do not exist are created when the request allows it
// and auto_create_topics_enabled is set, as Kafka does.

import (
	"context"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/internal/metadata"
)

func init() { regKey(kmsg.Metadata, 0, 12, handleMetadata) }

func handleMetadata(ctx context.Context, s *Shard, h kwire.Header, kreq kmsg.Request) (kmsg.Response, error) {
	req := kreq.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	st := s.cfg.Catalog.State()

	var names []string
	all := req.Topics == nil
	if all {
		names = st.TopicNames()
	} else {
		for _, t := range req.Topics {
			switch {
			case t.Topic != nil:
				names = append(names, *t.Topic)
			default:
				if tt, ok := st.TopicByID(metadata.UUID(t.TopicID)); ok {
					names = append(names, tt.Name)
				} else {
					rt := kmsg.NewMetadataResponseTopic()
					rt.TopicID = t.TopicID
					rt.ErrorCode = kerr.UnknownTopicID.Code
					resp.Topics = append(resp.Topics, rt)
				}
			}
		}
		if req.AllowAutoTopicCreation && st.ClusterConfig["auto_create_topics_enabled"] == "true" {
			st = s.autoCreate(ctx, st, names)
		}
	}
	for _, b := range st.BrokerList() {
		host, port := splitHostPort(b.KafkaAddr)
		rb := kmsg.NewMetadataResponseBroker()
		rb.NodeID, rb.Host, rb.Port = b.NodeID, host, port
		if b.Rack != "" {
			r := b.Rack
			rb.Rack = &r
		}
		resp.Brokers = append(resp.Brokers, rb)
	}
	cid := st.ClusterID.String()
	resp.ClusterID = &cid
	resp.ControllerID = s.cfg.NodeID
	for _, name := range names {
		rt := kmsg.NewMetadataResponseTopic()
		n := name
		rt.Topic = &n
		t, ok := st.Topic(name)
		if !ok {
			rt.ErrorCode = kerr.UnknownTopicOrPartition.Code
			if metadata.ValidateTopicName(name) != nil {
				rt.ErrorCode = kerr.InvalidTopicException.Code
			}
			resp.Topics = append(resp.Topics, rt)
			continue
		}
		rt.TopicID = t.ID
		rt.IsInternal = t.Internal
		for _, p := range t.Partitions {
			rp := kmsg.NewMetadataResponseTopicPartition()
			rp.Partition = p.ID
			rp.Leader = -1
			if len(p.Replicas) > 0 {
				rp.Leader = p.Replicas[0].NodeID
			}
			// The leader epoch is the partition's Raft term, which only
			// the owning shard knows; any shard answers Metadata, so it says
			// -1 (unknown), and clients skip epoch fencing instead of being
			// fenced by a stale number. The owner's answers (ListOffsets,
			// OffsetForLeaderEpoch, batches) carry the term.
			rp.LeaderEpoch = -1
			for _, r := range p.Replicas {
				rp.Replicas = append(rp.Replicas, r.NodeID)
				rp.ISR = append(rp.ISR, r.NodeID)
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}

func splitHostPort(addr string) (string, int32) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 9092
	}
	port, _ := strconv.Atoi(p)
	return host, int32(port)
}
