package shard

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/batch/batchtest"
	"github.com/ailurus/ailurus/internal/ctrlapi"
	"github.com/ailurus/ailurus/internal/kwire"
	"github.com/ailurus/ailurus/internal/metadata"
)

// staticCatalog is a Catalog with fixed metadata, for unit tests of the
// request path (the end-to-end tests use the real controller over the bus).
type staticCatalog struct{ st *metadata.State }

func (c staticCatalog) State() *metadata.State   { return c.st }
func (c staticCatalog) Updated() <-chan struct{} { return make(chan struct{}) }
func (c staticCatalog) Control(context.Context, ctrlapi.Request) (ctrlapi.Reply, error) {
	return ctrlapi.Reply{ErrorCode: 41, Message: "no controller in this test"}, nil
}

// testShard is a shard with one topic "t" of 2 partitions: 0 on this shard,
// 1 on shard 1 (unreachable: forwarding fails cleanly).
func testShard(t testing.TB) *Shard { return testShardWith(t, nil) }

// testShardWith is testShard with a hook run after the shared Raft stable
// store is open and before any partition is.
func testShardWith(t testing.TB, beforeOpen func(*Shard)) *Shard {
	st := metadata.NewState()
	st = st.WithBroker(metadata.Broker{NodeID: 0, KafkaAddr: "127.0.0.1:9092", Shards: 2})
	st = st.WithTopic(&metadata.Topic{Name: "t", ID: metadata.UUID{1}, Revision: 1, Partitions: []metadata.Partition{
		{ID: 0, Replicas: []metadata.Replica{{NodeID: 0, Shard: 0}}},
		{ID: 1, Replicas: []metadata.Replica{{NodeID: 0, Shard: 1}}},
	}})
	s, err := New(Config{DataDir: t.TempDir(), Catalog: staticCatalog{st},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		ForwardPath: func(int) string { return "/nonexistent/shard.sock" }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.parts.openStable(s.cfg.DataDir, 0); err != nil {
		t.Fatal(err)
	}
	if beforeOpen != nil {
		beforeOpen(s)
	}
	if err := s.parts.reconcile(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.parts.closeAll() })
	return s
}

// FuzzHandlers feeds arbitrary request bodies, for every registered API and
// version, through the decoder and the handlers. Nothing may panic (a panic
// would surface as errPanic), and a decoded request gets a response that
// encodes.
func FuzzHandlers(f *testing.F) {
	for key, e := range handlers {
		req := kmsg.RequestForKey(key)
		req.SetVersion(e.max)
		f.Add(key, e.max, req.AppendTo(nil))
	}
	prod := kmsg.NewPtrProduceRequest()
	prod.SetVersion(9)
	prod.Acks = -1
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = "t"
	pp := kmsg.NewProduceRequestTopicPartition()
	pp.Records = batchtest.Values(1, 3, 10)
	pt.Partitions = append(pt.Partitions, pp)
	prod.Topics = append(prod.Topics, pt)
	f.Add(int16(kmsg.Produce), int16(9), prod.AppendTo(nil))
	s := testShard(f)
	f.Fuzz(func(t *testing.T, key, version int16, body []byte) {
		e, ok := handlers[key]
		if !ok {
			return
		}
		if version < e.min || version > e.max {
			version = e.max
		}
		frame := binary.BigEndian.AppendUint16(nil, uint16(key))
		frame = binary.BigEndian.AppendUint16(frame, uint16(version))
		frame = append(frame, 0, 0, 0, 1, 0xff, 0xff) // correlation 1, null client id
		req := kmsg.RequestForKey(key)
		req.SetVersion(version)
		if req.IsFlexible() {
			frame = append(frame, 0)
		}
		frame = append(frame, body...)
		h, rest, err := kwire.ParseHeader(frame)
		if err != nil {
			return
		}
		// A fuzzed Fetch may ask for a long poll: the connection closing
		// (here, the deadline) ends it like any client going away.
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := s.handle(withTurn(ctx, newTurn(nil)), h, rest, false)
			done <- err
		}()
		select {
		case err := <-done:
			if err == errPanic {
				t.Fatalf("handler for key %d v%d panicked on %x", key, version, body)
			}
		case <-time.After(3 * time.Second):
			// The connection going away (ctx) must end every handler.
			buf := make([]byte, 1<<20)
			t.Fatalf("handler for key %d v%d still running 3s after its context ended, on %x:\n%s",
				key, version, body, buf[:runtime.Stack(buf, true)])
		}
	})
}

// TestHandleRefusesUnknownAndUnsupported checks the connection-level answers:
// unknown keys and versions close the connection, ApiVersions above what we
// serve answers UNSUPPORTED_VERSION with our versions (KIP-511).
func TestHandleRefusesUnknownAndUnsupported(t *testing.T) {
	s := testShard(t)
	ctx := withTurn(context.Background(), newTurn(nil))
	if _, err := s.handle(ctx, kwire.Header{Key: 999}, nil, false); err == nil {
		t.Fatal("unknown key accepted")
	}
	if _, err := s.handle(ctx, kwire.Header{Key: int16(kmsg.Produce), Version: 99}, nil, false); err == nil {
		t.Fatal("unsupported produce version accepted")
	}
	out, err := s.handle(ctx, kwire.Header{Key: int16(kmsg.ApiVersions), Version: 99, Correlation: 7}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(0)
	corr, resp, err := kwire.ParseResponse(req, out[4:])
	if err != nil || corr != 7 {
		t.Fatalf("parse: %v corr %d", err, corr)
	}
	av := resp.(*kmsg.ApiVersionsResponse)
	if av.ErrorCode != 35 || len(av.ApiKeys) != len(handlers) {
		t.Fatalf("ApiVersions v99: code %d, %d keys", av.ErrorCode, len(av.ApiKeys))
	}
}
