// Package kwire reads and writes Kafka protocol frames on the server side:
// size-prefixed frames, request headers (v1/v2) and response headers
// (v0/v1). Request and response bodies are franz-go's kmsg types. Shared by
// the shard's Kafka listener and the shard-to-shard forwarder, which speaks
// the Kafka protocol itself.
package kwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Errors for frames the server cannot answer; the connection is closed.
var (
	ErrFrameTooLarge = errors.New("request larger than kafka_request_max_bytes")
	ErrBadFrame      = errors.New("malformed request frame")
)

// Header is a parsed request header.
type Header struct {
	Key         int16
	Version     int16
	Correlation int32
	ClientID    string
	// Flexible: the request uses header v2 and compact encodings; the
	// response then uses header v1 (except ApiVersions, always v0).
	Flexible bool
}

// ReadFrame reads one size-prefixed frame into buf, growing it as needed,
// and returns the frame body. Frames over max bytes give ErrFrameTooLarge
// without reading them (Kafka closes such connections).
func ReadFrame(r io.Reader, buf []byte, max int32) ([]byte, error) {
	var sz [4]byte
	if _, err := io.ReadFull(r, sz[:]); err != nil {
		return buf, err
	}
	n := int32(binary.BigEndian.Uint32(sz[:]))
	if n < 0 || n > max {
		return buf, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, max)
	}
	if n < 8 {
		return buf, fmt.Errorf("%w: %d bytes is shorter than a request header", ErrBadFrame, n)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return buf, err
	}
	return buf, nil
}

// ParseHeader reads the request header at the start of frame. It returns the
// header and the body that follows it. Unknown keys and versions are not an
// error here: the caller answers them (UNSUPPORTED_VERSION) or closes.
func ParseHeader(frame []byte) (Header, []byte, error) {
	r := kbin.Reader{Src: frame}
	h := Header{Key: r.Int16(), Version: r.Int16(), Correlation: r.Int32()}
	if id := r.NullableString(); id != nil {
		h.ClientID = *id
	}
	if !r.Ok() {
		return h, nil, fmt.Errorf("%w: truncated header", ErrBadFrame)
	}
	if req := kmsg.RequestForKey(h.Key); req != nil {
		req.SetVersion(h.Version)
		h.Flexible = req.IsFlexible()
	}
	if h.Flexible {
		kmsg.SkipTags(&r)
		if !r.Ok() {
			return h, nil, fmt.Errorf("%w: bad header tags", ErrBadFrame)
		}
	}
	return h, r.Src, nil
}

// ParseRequest decodes the body of a request whose header is h. It returns
// nil and an error for unknown keys or bodies that do not decode.
func ParseRequest(h Header, body []byte) (kmsg.Request, error) {
	req := kmsg.RequestForKey(h.Key)
	if req == nil {
		return nil, fmt.Errorf("unknown api key %d", h.Key)
	}
	req.SetVersion(h.Version)
	if err := req.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("%w: %s v%d body: %w", ErrBadFrame, kmsg.NameForKey(h.Key), h.Version, err)
	}
	return req, nil
}

// AppendResponse appends a whole response frame (size, header, body) for
// the request with header h to dst.
func AppendResponse(dst []byte, h Header, resp kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(h.Correlation))
	if h.Flexible && h.Key != int16(kmsg.ApiVersions) {
		dst = append(dst, 0) // empty tagged fields
	}
	dst = resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

// AppendRequest appends a whole request frame, for the forwarder and tests.
func AppendRequest(dst []byte, correlation int32, clientID string, req kmsg.Request) []byte {
	start := len(dst)
	dst = appendRequestHeader(dst, correlation, clientID, req.Key(), req.GetVersion(), req.IsFlexible())
	dst = req.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

// appendRequestHeader appends a frame's size (0, for the caller to set)
// and a request header v1 (v2, with no tagged fields, when flexible).
func appendRequestHeader(dst []byte, correlation int32, clientID string, key, version int16, flexible bool) []byte {
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint16(dst, uint16(key))
	dst = binary.BigEndian.AppendUint16(dst, uint16(version))
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlation))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(clientID)))
	dst = append(dst, clientID...)
	if flexible {
		dst = append(dst, 0)
	}
	return dst
}

// ParseResponse decodes a response frame body (after the size) for req.
func ParseResponse(req kmsg.Request, frame []byte) (int32, kmsg.Response, error) {
	if len(frame) < 4 {
		return 0, nil, fmt.Errorf("%w: short response", ErrBadFrame)
	}
	corr := int32(binary.BigEndian.Uint32(frame))
	body := frame[4:]
	if req.IsFlexible() && req.Key() != int16(kmsg.ApiVersions) {
		r := kbin.Reader{Src: body}
		kmsg.SkipTags(&r)
		if !r.Ok() {
			return corr, nil, fmt.Errorf("%w: bad response tags", ErrBadFrame)
		}
		body = r.Src
	}
	resp := req.ResponseKind()
	if err := resp.ReadFrom(body); err != nil {
		return corr, nil, fmt.Errorf("%w: %w", ErrBadFrame, err)
	}
	return corr, resp, nil
}
