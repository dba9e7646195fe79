package shard

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/ailurus/ailurus/internal/ctrlapi"
	"github.com/ailurus/ailurus/internal/metadata"
)

// control sends a request to the controller and, when it changed the
// metadata, waits until this shard's view holds that version, so that the
// client's next request here sees the change. It returns the Kafka error
// code and message to answer with.
func (s *Shard) control(ctx context.Context, req ctrlapi.Request) (ctrlapi.Reply, int16, string) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rep, err := s.cfg.Catalog.Control(ctx, req)
	if err != nil {
		s.log.Warn("controller request failed", "op", req.Op, "err", err)
		return rep, kerr.RequestTimedOut.Code, "controller unavailable: " + err.Error()
	}
	if rep.ErrorCode != 0 {
		return rep, rep.ErrorCode, rep.Message
	}
	for rep.Version > s.cfg.Catalog.State().Version {
		ch := s.cfg.Catalog.Updated()
		if rep.Version <= s.cfg.Catalog.State().Version {
			break
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return rep, kerr.RequestTimedOut.Code, "metadata change not visible yet"
		}
	}
	return rep, 0, ""
}

// autoCreate creates the named topics that do not exist, with the cluster
// defaults, and returns the state that holds them.
func (s *Shard) autoCreate(ctx context.Context, st *metadata.State, names []string) *metadata.State {
	created := false
	for _, n := range names {
		if _, ok := st.Topic(n); ok || metadata.ValidateTopicName(n) != nil {
			continue
		}
		_, code, msg := s.control(ctx, ctrlapi.Request{Op: ctrlapi.OpCreateTopic,
			CreateTopic: &ctrlapi.CreateTopic{Name: n, Partitions: -1, ReplicationFactor: -1}})
		if code != 0 && code != kerr.TopicAlreadyExists.Code {
			s.log.Warn("auto-create topic failed", "topic", n, "code", code, "err", msg)
			continue
		}
		created = true
	}
	if created {
		return s.cfg.Catalog.State()
	}
	return st
}
