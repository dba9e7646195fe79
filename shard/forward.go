package shard

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

// forwarder sends the parts of a request that belong to other shards to
// their owners over Unix sockets, speaking the Kafka protocol itself. One
// request per connection at a time; idle connections are kept per shard.
// Produce goes over one pipelined connection per shard instead (fwdPipe).
type forwarder struct {
	s    *Shard
	corr atomic.Int32

	mu     sync.Mutex
	idle   map[int][]*fwdConn
	pipes  map[int]*fwdPipe
	closed bool
}

type fwdConn struct {
	c net.Conn
	r *bufio.Reader
}

func newForwarder(s *Shard) *forwarder {
	return &forwarder{s: s, idle: map[int][]*fwdConn{}, pipes: map[int]*fwdPipe{}}
}

// pipe is the pipelined produce connection to shard.
func (f *forwarder) pipe(shard int) *fwdPipe {
	f.mu.Lock()
	defer f.mu.Unlock()
	pp := f.pipes[shard]
	if pp == nil {
		pp = &fwdPipe{f: f, shard: shard}
		f.pipes[shard] = pp
	}
	return pp
}

// call sends req to shard and returns its response. The request's version
// is kept, so the owner answers in the shape the client asked for.
func (f *forwarder) call(ctx context.Context, shard int, req kmsg.Request) (kmsg.Response, error) {
	if f.s.cfg.ForwardPath == nil {
		return nil, fmt.Errorf("no route to shard %d", shard)
	}
	fc, err := f.get(ctx, shard)
	if err != nil {
		return nil, err
	}
	corr := f.corr.Add(1)
	deadline := time.Now().Add(60 * time.Second)
	if d, ok := ctx.Deadline(); ok && (d.Before(deadline) || ctx.Value(fwdClientIDKey{}) != nil) {
		deadline = d // group requests set their own, possibly longer, wait (forwardGroup)
	}
	fc.c.SetDeadline(deadline)
	if _, err := fc.c.Write(kwire.AppendRequest(nil, corr, forwardClientID(ctx), req)); err != nil {
		fc.c.Close()
		return nil, fmt.Errorf("forward to shard %d: %w", shard, err)
	}
	frame, err := kwire.ReadFrame(fc.r, nil, 1<<30)
	if err != nil {
		fc.c.Close()
		return nil, fmt.Errorf("forward to shard %d: %w", shard, err)
	}
	got, resp, err := kwire.ParseResponse(req, frame)
	if err != nil || got != corr {
		fc.c.Close()
		return nil, fmt.Errorf("forward to shard %d: bad response (corr %d/%d): %v", shard, got, corr, err)
	}
	f.put(shard, fc)
	return resp, nil
}

func (f *forwarder) get(ctx context.Context, shard int) (*fwdConn, error) {
	f.mu.Lock()
	if n := len(f.idle[shard]); n > 0 {
		fc := f.idle[shard][n-1]
		f.idle[shard] = f.idle[shard][:n-1]
		f.mu.Unlock()
		return fc, nil
	}
	f.mu.Unlock()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", f.s.cfg.ForwardPath(shard))
	if err != nil {
		return nil, fmt.Errorf("dial shard %d: %w", shard, err)
	}
	return &fwdConn{c: c, r: bufio.NewReaderSize(c, 64<<10)}, nil
}

func (f *forwarder) put(shard int, fc *fwdConn) {
	fc.c.SetDeadline(time.Time{})
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || len(f.idle[shard]) >= 16 {
		fc.c.Close()
		return
	}
	f.idle[shard] = append(f.idle[shard], fc)
}

func (f *forwarder) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for _, cs := range f.idle {
		for _, fc := range cs {
			fc.c.Close()
		}
	}
	f.idle = map[int][]*fwdConn{}
	for _, pp := range f.pipes {
		pp.close()
	}
}

// route says where a partition lives from this shard's point of view.
type route int

const (
	routeLocal     route = iota
	routeShard           // another shard of this node
	routeUnknown         // no such topic or partition
	routeElsewhere       // another node leads it
)

// routeOf finds the owner of topic/partition.
func (s *Shard) routeOf(topic string, p int32) (route, int) {
	t, ok := s.cfg.Catalog.State().Topic(topic)
	if !ok || p < 0 || int(p) >= len(t.Partitions) || len(t.Partitions[p].Replicas) == 0 {
		return routeUnknown, 0
	}
	r := t.Partitions[p].Replicas[0]
	switch {
	case r.NodeID != s.cfg.NodeID:
		return routeElsewhere, 0
	case r.Shard == s.cfg.ID:
		return routeLocal, r.Shard
	default:
		return routeShard, r.Shard
	}
}

// resolve says where one partition named in a request is served: the open
// local partition, or the other shard of this node that owns it (owner), or
// the Kafka error code to answer with. A partition placed here but still
// opening is waited for (see partitions.await). A request that came over
// the forward socket is never forwarded again: a stale placement on the
// sender gets UNKNOWN_TOPIC_OR_PARTITION so the client refreshes.
func (s *Shard) resolve(ctx context.Context, topic string, p int32) (part *partition, owner int, code int16) {
	rte, owner := s.routeOf(topic, p)
	if isInternal(ctx) && rte == routeShard {
		rte = routeUnknown
	}
	switch rte {
	case routeUnknown:
		return nil, 0, kerr.UnknownTopicOrPartition.Code
	case routeElsewhere:
		return nil, 0, kerr.NotLeaderForPartition.Code
	case routeShard:
		return nil, owner, 0
	}
	if part = s.parts.await(ctx, topic, p); part == nil {
		return nil, 0, kerr.NotLeaderForPartition.Code
	}
	return part, 0, 0
}

// forwardOne sends req, which names one partition, to the owning shard on a
// goroutine tracked by wg, and hands the owner's answer to take; if the
// owner cannot be reached, *code is set to NOT_LEADER_OR_FOLLOWER so the
// client refreshes and retries.
func forwardOne[R kmsg.Response](ctx context.Context, s *Shard, wg *sync.WaitGroup, owner int, req kmsg.Request, code *int16, take func(R)) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		kr, err := s.fwd.call(ctx, owner, req)
		if err != nil {
			*code = kerr.NotLeaderForPartition.Code
			return
		}
		take(kr.(R))
	}()
}
