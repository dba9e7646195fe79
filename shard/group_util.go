package shard

import (
	"context"
	"net"

	"github.com/twmb/franz-go/pkg/kerr"
)

// coordinatorGone answers a group request whose forward to the
// coordinating shard failed: the client looks the coordinator up again.
var coordinatorGone = kerr.NotCoordinator.Code

// clientHost is the client's IP for DescribeGroups; "" for requests
// forwarded from another shard (the Unix socket hides it).
func clientHost(ctx context.Context) string {
	a, _ := ctx.Value(clientAddrKey{}).(string)
	return a
}

type clientAddrKey struct{}

// withClientAddr records a TCP client's IP in the connection's context.
func withClientAddr(ctx context.Context, c net.Conn) context.Context {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return context.WithValue(ctx, clientAddrKey{}, a.IP.String())
	}
	return ctx
}
