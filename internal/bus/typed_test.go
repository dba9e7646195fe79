package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ailurus/ailurus/internal/testkit"
)

func TestPublishSubscribeRoundTrip(t *testing.T) {
	s := runServer(t)
	shard, uploader := connect(t, s, "shard-0"), connect(t, s, "uploader")

	got := make(chan SegmentClosed, 1)
	if _, err := Subscribe(uploader, SubjSegmentClosed, func(m SegmentClosed) { got <- m }); err != nil {
		t.Fatal(err)
	}
	flush(t, uploader)

	want := SegmentClosed{
		Topic: "orders", Partition: 3, Revision: 17, BaseOffset: 100, LastOffset: 199,
		Term: 2, Path: "/data/kafka/orders/3_17/100-2-v1.log", SizeBytes: 4096,
	}
	if err := Publish(shard, SubjSegmentClosed, want); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m != want {
			t.Fatalf("got %+v, want %+v", m, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
}

func TestSubscribeWildcardHealth(t *testing.T) {
	s := runServer(t)
	agent, shard := connect(t, s, "agent"), connect(t, s, "shard-4")

	var mu sync.Mutex
	var seen []ShardHealth
	if _, err := Subscribe(agent, SubjShardHealthAll, func(h ShardHealth) {
		mu.Lock()
		seen = append(seen, h)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	flush(t, agent)

	now := time.Now().UTC().Truncate(time.Millisecond)
	h := ShardHealth{ShardID: 4, PID: 1234, Serving: true, Partitions: 12, Time: now}
	if err := Publish(shard, ShardHealthSubject(4), h); err != nil {
		t.Fatal(err)
	}
	// Ready is another subject: the health subscription must not see it.
	if err := Publish(shard, ShardReadySubject(4), ShardReady{ShardID: 4}); err != nil {
		t.Fatal(err)
	}
	if err := PublishRaw(shard, ShardHealthSubject(4), []byte("not json")); err != nil {
		t.Fatal(err)
	}
	if err := Publish(shard, ShardHealthSubject(4), h); err != nil {
		t.Fatal(err)
	}
	testkit.CheckFor(t, 5*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) != 2 {
			return fmt.Errorf("seen %d heartbeats, want 2", len(seen))
		}
		if !seen[0].Time.Equal(now) || seen[0].ShardID != 4 || !seen[0].Serving {
			return fmt.Errorf("got %+v", seen[0])
		}
		return nil
	})
}

func TestMetricsRaw(t *testing.T) {
	s := runServer(t)
	agent, up := connect(t, s, "agent"), connect(t, s, "uploader")

	type push struct {
		role string
		id   int
		body string
	}
	got := make(chan push, 1)
	if _, err := SubscribeRaw(agent, SubjMetricsAll, func(subject string, data []byte) {
		role, id, ok := ParseMetricsSubject(subject)
		if !ok {
			t.Errorf("unparsable metrics subject %q", subject)
		}
		got <- push{role, id, string(data)}
	}); err != nil {
		t.Fatal(err)
	}
	flush(t, agent)

	body := "# TYPE uploads_total counter\nuploads_total 3\n"
	if err := PublishRaw(up, MetricsSubject(RoleUploader, 0), []byte(body)); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p != (push{RoleUploader, 0, body}) {
			t.Fatalf("got %+v", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no metrics push")
	}
}

func TestRequestReply(t *testing.T) {
	s := runServer(t)
	shard, uploader := connect(t, s, "shard-1"), connect(t, s, "uploader")

	if _, err := Respond(uploader, SubjTieredHydrate, func(r HydrateRequest) HydrateReply {
		if r.Topic != "orders" {
			return HydrateReply{Error: "unknown topic " + r.Topic}
		}
		return HydrateReply{Path: "/cache/x.log", BaseOffset: r.Offset - r.Offset%100, LastOffset: r.Offset - r.Offset%100 + 99}
	}); err != nil {
		t.Fatal(err)
	}
	flush(t, uploader)

	rep, err := Request[HydrateRequest, HydrateReply](t.Context(), shard, SubjTieredHydrate,
		HydrateRequest{Topic: "orders", Partition: 1, Offset: 250})
	if err != nil {
		t.Fatal(err)
	}
	if rep != (HydrateReply{Path: "/cache/x.log", BaseOffset: 200, LastOffset: 299}) {
		t.Fatalf("reply %+v", rep)
	}
	rep, err = Request[HydrateRequest, HydrateReply](t.Context(), shard, SubjTieredHydrate,
		HydrateRequest{Topic: "nope"})
	if err != nil || rep.Error != "unknown topic nope" {
		t.Fatalf("reply %+v, err %v", rep, err)
	}
}

func TestRespondAsync(t *testing.T) {
	s := runServer(t)
	shard, agent := connect(t, s, "shard-2"), connect(t, s, "agent")

	// The agent answers from another goroutine, several requests in flight.
	if _, err := RespondAsync(agent, SubjCtrlRequest, func(r CtrlRequest, reply func(CtrlReply) error) {
		go func() {
			if err := reply(CtrlReply{Payload: json.RawMessage(`{"op":"` + r.Op + `"}`)}); err != nil {
				t.Errorf("reply: %v", err)
			}
		}()
	}); err != nil {
		t.Fatal(err)
	}
	flush(t, agent)

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			op := fmt.Sprintf("%s-%d", CtrlOpCreateTopics, i)
			rep, err := Request[CtrlRequest, CtrlReply](t.Context(), shard, SubjCtrlRequest, CtrlRequest{Op: op})
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			if want := `{"op":"` + op + `"}`; string(rep.Payload) != want {
				t.Errorf("request %d: payload %s, want %s", i, rep.Payload, want)
			}
		})
	}
	wg.Wait()
}

func TestRequestErrors(t *testing.T) {
	s := runServer(t)
	c, responder := connect(t, s, "shard-0"), connect(t, s, "agent")

	t.Run("no responders", func(t *testing.T) {
		_, err := Request[CtrlRequest, CtrlReply](t.Context(), c, SubjCtrlRequest, CtrlRequest{Op: "x"})
		if !errors.Is(err, nats.ErrNoResponders) {
			t.Fatalf("err %v, want no responders", err)
		}
	})

	t.Run("undecodable request", func(t *testing.T) {
		if _, err := Respond(responder, SubjMetaSnapshot, func(MetaSnapshotRequest) MetaSnapshot {
			return MetaSnapshot{}
		}); err != nil {
			t.Fatal(err)
		}
		flush(t, responder)
		// A JSON string where the responder expects an object.
		_, err := Request[string, MetaSnapshot](t.Context(), c, SubjMetaSnapshot, "hello")
		if !errors.Is(err, ErrRemote) {
			t.Fatalf("err %v, want ErrRemote", err)
		}
	})

	t.Run("undecodable reply", func(t *testing.T) {
		if _, err := Respond(responder, SubjTieredHydrate, func(HydrateRequest) string { return "nope" }); err != nil {
			t.Fatal(err)
		}
		flush(t, responder)
		_, err := Request[HydrateRequest, HydrateReply](t.Context(), c, SubjTieredHydrate, HydrateRequest{})
		if !errors.Is(err, ErrBadMessage) {
			t.Fatalf("err %v, want ErrBadMessage", err)
		}
	})

	t.Run("deadline", func(t *testing.T) {
		if _, err := RespondAsync(responder, SubjCtrlRequest, func(CtrlRequest, func(CtrlReply) error) {}); err != nil {
			t.Fatal(err)
		}
		flush(t, responder)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err := Request[CtrlRequest, CtrlReply](ctx, c, SubjCtrlRequest, CtrlRequest{Op: "x"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v, want deadline exceeded", err)
		}
	})

	t.Run("unencodable", func(t *testing.T) {
		err := Publish(c, SubjCtrlRequest, make(chan int))
		if !errors.Is(err, ErrBadMessage) {
			t.Fatalf("err %v, want ErrBadMessage", err)
		}
	})
}

func TestUnsubscribe(t *testing.T) {
	s := runServer(t)
	a, b := connect(t, s, "a"), connect(t, s, "b")
	var mu sync.Mutex
	n := 0
	sub, err := Subscribe(a, SubjSegmentClosed, func(SegmentClosed) { mu.Lock(); n++; mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	flush(t, a)
	if err := Publish(b, SubjSegmentClosed, SegmentClosed{}); err != nil {
		t.Fatal(err)
	}
	testkit.CheckFor(t, 5*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if n != 1 {
			return fmt.Errorf("%d messages", n)
		}
		return nil
	})
	before := s.ns.NumSubscriptions()
	if err := sub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	flush(t, a)
	if after := s.ns.NumSubscriptions(); after != before-1 {
		t.Fatalf("server has %d subscriptions after unsubscribe, had %d", after, before)
	}
	if err := sub.Unsubscribe(); err == nil {
		t.Fatal("second unsubscribe succeeded")
	}
}
