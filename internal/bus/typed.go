package bus

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"
)

// headerError carries a responder's failure to handle a request at all (it
// could not decode it). Failures of the operation itself travel in the reply
// type (HydrateReply.Error, CtrlReply.Error).
const headerError = "Ailurus-Error"

// Subscription is a live subscription made by Subscribe, SubscribeRaw,
// Respond or RespondAsync. Its owner is whoever made it.
type Subscription struct {
	sub *nats.Subscription
}

// Unsubscribe stops delivery at once; a callback in flight still finishes.
func (s *Subscription) Unsubscribe() error {
	if err := s.sub.Unsubscribe(); err != nil {
		return fmt.Errorf("bus: unsubscribe %s: %w", s.sub.Subject, err)
	}
	return nil
}

// Publish sends msg as JSON on subject. It returns once the message is
// buffered, not delivered; call Conn.Flush to wait for the server.
func Publish[T any](c *Conn, subject string, msg T) error {
	data, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("%w: encode for %s: %w", ErrBadMessage, subject, err)
	}
	return PublishRaw(c, subject, data)
}

// PublishRaw sends data as is; used for metrics pushes (Prometheus text).
func PublishRaw(c *Conn, subject string, data []byte) error {
	if err := c.nc.Publish(subject, data); err != nil {
		return fmt.Errorf("bus: publish %s: %w", subject, err)
	}
	return nil
}

// Subscribe calls fn with each message on subject (wildcards allowed) decoded
// as T. fn runs on the subscription's own goroutine, one message at a time in
// arrival order; a slow fn delays only this subscription, and past nats.go's
// pending limits its messages are dropped (logged as an async error).
// Messages that do not decode are logged and dropped.
func Subscribe[T any](c *Conn, subject string, fn func(T)) (*Subscription, error) {
	return subscribe(c, subject, func(m *nats.Msg) {
		var v T
		if err := json.Unmarshal(m.Data, &v); err != nil {
			c.log.Warn("bus dropped undecodable message", "subject", m.Subject, "err", err)
			return
		}
		fn(v)
	})
}

// SubscribeRaw is Subscribe without decoding; fn gets the concrete subject
// (useful with wildcards, see ParseMetricsSubject) and the body, which it
// must not keep after returning.
func SubscribeRaw(c *Conn, subject string, fn func(subject string, data []byte)) (*Subscription, error) {
	return subscribe(c, subject, func(m *nats.Msg) { fn(m.Subject, m.Data) })
}

func subscribe(c *Conn, subject string, h nats.MsgHandler) (*Subscription, error) {
	sub, err := c.nc.Subscribe(subject, h)
	if err != nil {
		return nil, fmt.Errorf("bus: subscribe %s: %w", subject, err)
	}
	return &Subscription{sub: sub}, nil
}

// Request sends req as JSON on subject and decodes the one reply as Rep. It
// blocks until the reply, ctx's end, or DefaultRequestTimeout if ctx has no
// deadline. With nobody listening it fails at once with an error wrapping
// nats.ErrNoResponders. Safe from any goroutine, but not from a callback of
// the subscription that would answer it.
func Request[Req, Rep any](ctx context.Context, c *Conn, subject string, req Req) (Rep, error) {
	var rep Rep
	data, err := json.Marshal(req)
	if err != nil {
		return rep, fmt.Errorf("%w: encode for %s: %w", ErrBadMessage, subject, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultRequestTimeout)
		defer cancel()
	}
	m, err := c.nc.RequestWithContext(ctx, subject, data)
	if err != nil {
		return rep, fmt.Errorf("bus: request %s: %w", subject, err)
	}
	if e := m.Header.Get(headerError); e != "" {
		return rep, fmt.Errorf("%w: %s: %s", ErrRemote, subject, e)
	}
	if err := json.Unmarshal(m.Data, &rep); err != nil {
		return rep, fmt.Errorf("%w: reply on %s: %w", ErrBadMessage, subject, err)
	}
	return rep, nil
}

// Respond answers each request on subject with fn's result. fn runs on the
// subscription's goroutine, one request at a time; a responder whose work
// takes long (hydrating from S3) uses RespondAsync instead. Put operation
// failures in Rep; a request that does not decode is answered with an error
// the requester sees as ErrRemote.
func Respond[Req, Rep any](c *Conn, subject string, fn func(Req) Rep) (*Subscription, error) {
	return RespondAsync(c, subject, func(req Req, reply func(Rep) error) {
		if err := reply(fn(req)); err != nil {
			c.log.Warn("bus reply failed", "subject", subject, "err", err)
		}
	})
}

// RespondAsync is Respond for slow work: fn is called on the subscription's
// goroutine and may return before answering, handing reply to a goroutine of
// its own. reply must be called exactly once, from any goroutine; a reply
// after the requester gave up is dropped by the server.
func RespondAsync[Req, Rep any](c *Conn, subject string, fn func(req Req, reply func(Rep) error)) (*Subscription, error) {
	return subscribe(c, subject, func(m *nats.Msg) {
		if m.Reply == "" {
			c.log.Warn("bus dropped request without reply subject", "subject", m.Subject)
			return
		}
		var req Req
		if err := json.Unmarshal(m.Data, &req); err != nil {
			c.log.Warn("bus refused undecodable request", "subject", m.Subject, "err", err)
			errMsg := nats.NewMsg(m.Reply)
			errMsg.Header.Set(headerError, "bad request: "+err.Error())
			if err := m.RespondMsg(errMsg); err != nil {
				c.log.Warn("bus reply failed", "subject", m.Subject, "err", err)
			}
			return
		}
		fn(req, func(rep Rep) error {
			data, err := json.Marshal(rep)
			if err != nil {
				return fmt.Errorf("%w: encode reply on %s: %w", ErrBadMessage, m.Subject, err)
			}
			if err := m.Respond(data); err != nil {
				return fmt.Errorf("bus: reply on %s: %w", m.Subject, err)
			}
			return nil
		})
	})
}
