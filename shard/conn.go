package shard

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

// maxInFlight bounds the requests of one connection being handled at once;
// the reader stops reading until the oldest is answered (backpressure).
const maxInFlight = 32

// pending is one request's answer slot; responses leave in request order.
type pending struct {
	done chan struct{}
	out  []byte      // whole response frame; nil for no response
	pf   *partsFrame // or the frame as parts (zero-copy fetch); released once written
	err  error       // closes the connection
}

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// serveConn reads requests, handles each on its own goroutine so a slow one
// (a produce waiting for fsync, a long-polling fetch) does not hold up the
// others, and writes the responses back in order. Kafka clients pipeline
// requests on a connection and rely on that order.
func (s *Shard) serveConn(ctx context.Context, c net.Conn, internal bool) {
	defer c.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ctx = withClientAddr(ctx, c) // for the group coordinator's client host (group_util.go)
	queue := make(chan *pending, maxInFlight)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // writer
		defer wg.Done()
		w := bufio.NewWriterSize(c, 64<<10)
		for p := range queue {
			<-p.done
			if p.pf != nil {
				err := writeParts(w, c, p.pf)
				p.pf.release()
				if err != nil {
					c.Close()
					cancel()
					continue
				}
			}
			if p.err != nil {
				s.log.Debug("closing connection", "remote", c.RemoteAddr(), "err", p.err)
				c.Close()
				cancel()
				continue
			}
			if p.out == nil && p.pf == nil {
				continue
			}
			if _, err := w.Write(p.out); err != nil {
				c.Close()
				cancel()
				continue
			}
			if len(queue) == 0 {
				if err := w.Flush(); err != nil {
					c.Close()
					cancel()
				}
			}
		}
	}()
	defer func() {
		close(queue)
		wg.Wait()
	}()
	r := bufio.NewReaderSize(c, 64<<10)
	maxBytes := s.maxRequestBytes()
	var prevTurn <-chan struct{}
	for ctx.Err() == nil {
		bp := framePool.Get().(*[]byte)
		frame, err := kwire.ReadFrame(r, (*bp)[:0], maxBytes)
		if err != nil {
			framePool.Put(bp)
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
				s.log.Info("closing connection", "remote", c.RemoteAddr(), "err", err)
				metricBadRequests.Inc()
			}
			return
		}
		*bp = frame
		h, body, err := kwire.ParseHeader(frame)
		p := &pending{done: make(chan struct{})}
		queue <- p
		if err != nil {
			p.err = err
			close(p.done)
			framePool.Put(bp)
			return
		}
		turn := newTurn(prevTurn)
		prevTurn = turn.mine
		go func() {
			defer close(p.done)
			defer framePool.Put(bp)
			defer turn.done()
			p.out, p.pf, p.err = s.handleFrame(withTurn(ctx, turn), h, body, internal)
		}()
	}
}

// handle decodes and serves one request and returns the response frame.
func (s *Shard) handle(ctx context.Context, h kwire.Header, body []byte, internal bool) ([]byte, error) {
	out, pf, err := s.handleFrame(ctx, h, body, internal)
	if pf != nil {
		defer pf.release()
		return pf.bytes()
	}
	return out, err
}

// handleFrame decodes and serves one request and returns the response
// frame, in one piece or (a client's fetch) as parts to send from the files.
func (s *Shard) handleFrame(ctx context.Context, h kwire.Header, body []byte, internal bool) (out []byte, pf *partsFrame, err error) {
	var z *zcFetch
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("handler panic; closing connection", "api", kmsg.NameForKey(h.Key), "version", h.Version, "panic", r)
			if z != nil {
				z.release()
			}
			out, pf, err = nil, nil, errPanic
		}
	}()
	e, ok := handlers[h.Key]
	if !ok {
		metricBadRequests.Inc()
		return nil, nil, errUnknownKey(h.Key)
	}
	if h.Version < e.min || h.Version > e.max {
		if h.Key == int16(kmsg.ApiVersions) {
			h.Flexible = false
			return kwire.AppendResponse(nil, h, unsupportedApiVersions()), nil, nil
		}
		metricBadRequests.Inc()
		return nil, nil, errUnsupportedVersion(h)
	}
	req, err := kwire.ParseRequest(h, body)
	if err != nil {
		metricBadRequests.Inc()
		return nil, nil, err
	}
	if h.Key != int16(kmsg.Produce) {
		turnOf(ctx).done() // writes nothing: let the next request write
	}
	done := observeRequest(h.Key, internal)
	resp, err := e.fn(withInternal(ctx, internal), s, h, req)
	done()
	if err != nil || resp == nil {
		return nil, nil, err
	}
	if zf, ok := resp.(*zcFetch); ok {
		z = zf
		if pf := encodeFetchParts(h, z); pf != nil {
			return nil, pf, nil
		}
		// Not a response the parts encoder mirrors: copy and use kmsg.
		if err := z.fill(); err != nil {
			return nil, nil, err
		}
		resp = z.FetchResponse
	}
	return kwire.AppendResponse(make([]byte, 0, 256), h, resp), nil, nil
}
