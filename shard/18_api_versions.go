package shard

// ApiVersions v0-v4. Lists exactly the registered handlers. A request for a
// version above what we serve gets UNSUPPORTED_VERSION with the list, in the
// v0 response shape, as Kafka does (KIP-511), so the client can downgrade.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ailurus/ailurus/internal/kwire"
)

func init() { regKey(kmsg.ApiVersions, 0, 4, handleApiVersions) }

func handleApiVersions(_ context.Context, s *Shard, h kwire.Header, req kmsg.Request) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	resp.ApiKeys = apiVersionsKeys()
	return resp, nil
}

// unsupportedApiVersions answers an ApiVersions request of a version we do
// not serve: v0 body, UNSUPPORTED_VERSION, our versions.
func unsupportedApiVersions() *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(0)
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	resp.ApiKeys = apiVersionsKeys()
	return resp
}
