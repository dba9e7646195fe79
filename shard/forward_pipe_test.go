package shard

import (
	"bufio"
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

// fakeOwner answers produce requests on a Unix socket, in order, echoing
// the order it read them in as each answer's base offset; it hangs up after
// hangUpAfter requests (0: never).
func fakeOwner(t *testing.T, path string, hangUpAfter int) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for n := 0; hangUpAfter == 0 || n < hangUpAfter; n++ {
					frame, err := kwire.ReadFrame(r, nil, 1<<20)
					if err != nil {
						return
					}
					h, body, err := kwire.ParseHeader(frame)
					if err != nil {
						return
					}
					req, err := kwire.ParseRequest(h, body)
					if err != nil {
						return
					}
					resp := req.ResponseKind().(*kmsg.ProduceResponse)
					rt := kmsg.NewProduceResponseTopic()
					rp := kmsg.NewProduceResponseTopicPartition()
					rp.BaseOffset = int64(n)
					rt.Partitions = append(rt.Partitions, rp)
					resp.Topics = append(resp.Topics, rt)
					if _, err := c.Write(kwire.AppendResponse(nil, h, resp)); err != nil {
						return
					}
				}
			}()
		}
	}()
}

func produceReq() *kmsg.ProduceRequest {
	r := kmsg.NewPtrProduceRequest()
	r.SetVersion(9)
	r.Acks = -1
	return r
}

// TestForwardPipeOrderAndFailure: requests sent on a pipe reach the owner
// in the order send was called, many in flight at once, each answered with
// its own response; when the owner hangs up every call in flight fails, and
// the next send dials again.
func TestForwardPipeOrderAndFailure(t *testing.T) {
	dir := t.TempDir()
	ok, flaky := filepath.Join(dir, "ok.sock"), filepath.Join(dir, "flaky.sock")
	fakeOwner(t, ok, 0)
	fakeOwner(t, flaky, 3)
	paths := map[int]string{1: ok, 2: flaky}
	s := &Shard{cfg: Config{ForwardPath: func(i int) string { return paths[i] }}}
	s.fwd = newForwarder(s)
	defer s.fwd.close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	var waits []func() (kmsg.Response, error)
	for range 100 {
		w, err := s.fwd.pipe(1).send(ctx, produceReq())
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, w)
	}
	for i, w := range waits {
		r, err := w()
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if got := r.(*kmsg.ProduceResponse).Topics[0].Partitions[0].BaseOffset; got != int64(i) {
			t.Fatalf("call %d was the owner's request %d: order lost", i, got)
		}
	}

	waits = waits[:0]
	for range 5 {
		w, err := s.fwd.pipe(2).send(ctx, produceReq())
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, w)
	}
	for i, w := range waits {
		_, err := w()
		if i < 3 && err != nil {
			t.Fatalf("call %d before the hang-up: %v", i, err)
		}
		if i >= 3 && err == nil {
			t.Fatalf("call %d after the owner hung up succeeded", i)
		}
	}
	// A new connection serves the next call.
	deadline := time.Now().Add(5 * time.Second)
	for {
		w, err := s.fwd.pipe(2).send(ctx, produceReq())
		if err == nil {
			if _, err = w(); err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pipe did not recover after the owner hung up: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
