package shard

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

// fwdPipe is one connection to another shard that carries many produce
// requests at once: they are written in the order send is called and the
// owner, which keeps each connection's produce order (writeTurn) and
// answers in request order, writes them to its logs in that order. So a
// produce request can pass its connection's write turn on as soon as its
// forwarded parts are sent, not when the owner has made them durable, and
// the next request's writes overlap the owner's fsync. Only produce uses
// it: a long poll or a rebalance wait on it would hold the answers behind.
type fwdPipe struct {
	f     *forwarder
	shard int

	mu      sync.Mutex // orders writes with the queue of waiting calls
	c       net.Conn
	queue   chan *pipeCall // calls sent and not answered, in order
	corr    int32
	dead    error
	readerC chan struct{} // closed when the reader goroutine ends
}

type pipeCall struct {
	corr int32
	req  kmsg.Request
	resp kmsg.Response
	err  error
	done chan struct{}
}

// pipeDepth bounds the calls in flight on one pipe; a sender beyond it
// waits, which is back-pressure on the clients.
const pipeDepth = 1024

// pipeTimeout bounds how long an owner may take to answer a forwarded
// produce before the pipe is dropped (every call on it then fails with
// NOT_LEADER_OR_FOLLOWER, and the clients retry).
const pipeTimeout = 60 * time.Second

// send writes req to the owner and returns a function that waits for its
// answer. Calls to send return in the order their requests were written.
func (pp *fwdPipe) send(ctx context.Context, req kmsg.Request) (func() (kmsg.Response, error), error) {
	if pp.f.s.cfg.ForwardPath == nil {
		return nil, fmt.Errorf("no route to shard %d", pp.shard)
	}
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.c == nil {
		if err := pp.dial(ctx); err != nil {
			return nil, err
		}
	}
	pp.corr++
	call := &pipeCall{corr: pp.corr, req: req, done: make(chan struct{})}
	select {
	case pp.queue <- call:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-pp.readerC:
		pp.c = nil
		return nil, fmt.Errorf("forward to shard %d: %w", pp.shard, pp.dead)
	}
	pp.c.SetWriteDeadline(time.Now().Add(pipeTimeout))
	if err := pp.write(ctx, call.corr, req); err != nil {
		pp.c.Close() // the reader fails every queued call, this one included
	}
	return func() (kmsg.Response, error) {
		select {
		case <-call.done:
			return call.resp, call.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}, nil
}

// write (mu held) sends req; a produce request's records go from where
// the client's request holds them in one writev, not copied into a frame.
func (pp *fwdPipe) write(ctx context.Context, corr int32, req kmsg.Request) error {
	if pr, ok := req.(*kmsg.ProduceRequest); ok {
		if bufs, ok := kwire.ProduceFrame(corr, forwardClientID(ctx), pr); ok {
			_, err := bufs.WriteTo(pp.c)
			return err
		}
	}
	_, err := pp.c.Write(kwire.AppendRequest(nil, corr, forwardClientID(ctx), req))
	return err
}

// close drops the connection; calls in flight fail.
func (pp *fwdPipe) close() {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.c != nil {
		pp.c.Close()
	}
}

// dial (mu held) opens the connection and starts its reader.
func (pp *fwdPipe) dial(ctx context.Context) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", pp.f.s.cfg.ForwardPath(pp.shard))
	if err != nil {
		return fmt.Errorf("dial shard %d: %w", pp.shard, err)
	}
	pp.c, pp.queue, pp.readerC, pp.dead = c, make(chan *pipeCall, pipeDepth), make(chan struct{}), nil
	go pp.read(c, pp.queue, pp.readerC)
	return nil
}

// read matches answers to calls in order until the connection fails, then
// fails every call still waiting.
func (pp *fwdPipe) read(c net.Conn, queue chan *pipeCall, done chan struct{}) {
	r := bufio.NewReaderSize(c, 64<<10)
	var err error
	for err == nil {
		call := <-queue
		if call == nil {
			err = errors.New("pipe closed")
			break
		}
		c.SetReadDeadline(time.Now().Add(pipeTimeout))
		var frame []byte
		if frame, err = kwire.ReadFrame(r, nil, 1<<30); err == nil {
			var got int32
			got, call.resp, err = kwire.ParseResponse(call.req, frame)
			if err == nil && got != call.corr {
				err = fmt.Errorf("answer %d to request %d", got, call.corr)
			}
		}
		if err != nil {
			call.resp, call.err = nil, fmt.Errorf("forward to shard %d: %w", pp.shard, err)
		}
		close(call.done)
	}
	c.Close()
	pp.mu.Lock()
	pp.dead = err
	if pp.c == c {
		pp.c = nil
	}
	pp.mu.Unlock()
	close(done)
	for {
		select {
		case call := <-queue:
			if call != nil {
				call.err = fmt.Errorf("forward to shard %d: %w", pp.shard, err)
				close(call.done)
			}
		default:
			return
		}
	}
}
