package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/ailurus/ailurus/agent/admin"
	"github.com/ailurus/ailurus/agent/controller"
	"github.com/ailurus/ailurus/internal/bus"
)

// startAdmin serves the admin API (readiness, brokers, cluster config,
// partitions, metrics) until ctx ends.
func (a *Agent) startAdmin(ctx context.Context, version string) (stop func(), err error) {
	if len(a.cfg.Admin) == 0 {
		return func() {}, nil
	}
	col := admin.NewCollector(admin.CollectorOptions{Logger: a.log, Metrics: a.adminMetrics, MaxAge: time.Minute})
	if _, err := bus.SubscribeRaw(a.conn, bus.SubjMetricsAll, col.HandleBusMessage); err != nil {
		return nil, err
	}
	if _, err := bus.Subscribe(a.conn, bus.SubjShardHealthAll, a.adminMetrics.ObserveShardHealth); err != nil {
		return nil, err
	}
	cfg := admin.DefaultConfig()
	cfg.Addr = a.cfg.Admin[0].HostPort()
	cfg.NodeID = int32(a.cfg.NodeID)
	cfg.Version = version
	cfg.Cluster = a.ctrl
	cfg.Health = healthFunc(a.Ready)
	cfg.Gatherer = Registry
	cfg.Collector = col
	cfg.Logger = a.opts.Logger
	cfg.IsUnavailable = func(err error) bool {
		return errors.Is(err, controller.ErrNotController) || errors.Is(err, controller.ErrClosed)
	}
	srv, err := admin.New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("admin API: %w", err)
	}
	a.log.Info("admin API listening", "addr", ln.Addr().String())
	go func() {
		if err := srv.Serve(ln); err != nil {
			a.log.Error("admin API stopped", "err", err)
		}
	}()
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}, nil
}

// healthFunc adapts Agent.Ready to admin.Health.
type healthFunc func() (int, int)

func (f healthFunc) ShardsServing() (int, int) { return f() }
