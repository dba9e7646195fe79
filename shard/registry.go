package shard

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

// handler serves one API key. It returns the response to send, or nil for
// none (produce with acks=0). A Go error means the connection is broken and
// is closed; protocol errors go in the response as Kafka error codes.
type handler func(ctx context.Context, s *Shard, h kwire.Header, req kmsg.Request) (kmsg.Response, error)

type regEntry struct {
	min, max int16
	fn       handler
}

// handlers is filled by each API's file through regKey, so that ApiVersions
// advertises exactly the keys and versions that have a handler.
var handlers = map[int16]regEntry{}

func regKey(key kmsg.Key, min, max int16, fn handler) {
	handlers[int16(key)] = regEntry{min: min, max: max, fn: fn}
}

// apiVersionsKeys lists the registered keys, sorted, for ApiVersions.
func apiVersionsKeys() []kmsg.ApiVersionsResponseApiKey {
	keys := make([]kmsg.ApiVersionsResponseApiKey, 0, len(handlers))
	for k, e := range handlers {
		keys = append(keys, kmsg.ApiVersionsResponseApiKey{ApiKey: k, MinVersion: e.min, MaxVersion: e.max})
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ApiKey < keys[j].ApiKey })
	return keys
}
