package kwire

import (
	"bytes"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestRoundTripRequestAndResponse(t *testing.T) {
	for _, v := range []int16{0, 4, 9, 12} { // non-flexible and flexible Metadata
		req := kmsg.NewPtrMetadataRequest()
		req.SetVersion(v)
		topic := kmsg.NewMetadataRequestTopic()
		name := "flights"
		topic.Topic = &name
		req.Topics = append(req.Topics, topic)
		frame := AppendRequest(nil, 42, "cli", req)
		body, err := ReadFrame(bytes.NewReader(frame), nil, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		h, rest, err := ParseHeader(body)
		if err != nil {
			t.Fatal(err)
		}
		if h.Key != 3 || h.Version != v || h.Correlation != 42 || h.ClientID != "cli" || h.Flexible != (v >= 9) {
			t.Fatalf("v%d header %+v", v, h)
		}
		got, err := ParseRequest(h, rest)
		if err != nil {
			t.Fatal(err)
		}
		if m := got.(*kmsg.MetadataRequest); len(m.Topics) != 1 || *m.Topics[0].Topic != "flights" {
			t.Fatalf("v%d body %+v", v, m)
		}
		resp := req.ResponseKind().(*kmsg.MetadataResponse)
		resp.ClusterID = &name
		out := AppendResponse(nil, h, resp)
		rb, err := ReadFrame(bytes.NewReader(out), nil, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		corr, r2, err := ParseResponse(req, rb)
		if err != nil || corr != 42 || (v >= 2 && *r2.(*kmsg.MetadataResponse).ClusterID != "flights") {
			t.Fatalf("v%d response: %v %d", v, err, corr)
		}
	}
}

func TestBadFrames(t *testing.T) {
	if _, err := ReadFrame(bytes.NewReader([]byte{0, 0, 1, 0}), nil, 100); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0xff, 0, 0, 0}), nil, 100); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("negative: %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0, 0, 0, 2, 1, 2}), nil, 100); !errors.Is(err, ErrBadFrame) {
		t.Fatalf("tiny: %v", err)
	}
	if _, _, err := ParseHeader([]byte{0, 3, 0, 1, 0, 0, 0, 1, 0, 9}); !errors.Is(err, ErrBadFrame) {
		t.Fatalf("truncated client id: %v", err)
	}
	h, body, err := ParseHeader([]byte{0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseRequest(h, body); !errors.Is(err, ErrBadFrame) {
		t.Fatalf("garbage body: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	f.Add(AppendRequest(nil, 1, "x", req)[4:])
	f.Fuzz(func(t *testing.T, frame []byte) {
		h, body, err := ParseHeader(frame)
		if err != nil {
			return
		}
		if r, err := ParseRequest(h, body); err == nil {
			_ = AppendResponse(nil, h, r.ResponseKind())
		}
	})
}
