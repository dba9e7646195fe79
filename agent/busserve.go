package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/ailurus/ailurus/agent/controller"
	"github.com/ailurus/ailurus/internal/bus"
	"github.com/ailurus/ailurus/internal/config"
	"github.com/ailurus/ailurus/internal/ctrlapi"
	"github.com/ailurus/ailurus/internal/metadata"
)

// publishChange is the controller's OnChange: every applied change goes on
// the bus in version order (called from the FSM goroutine, one at a time).
func (a *Agent) publishChange(c metadata.Change) {
	payload, err := json.Marshal(c)
	if err != nil {
		a.log.Error("encode metadata change", "err", err)
		return
	}
	a.pubMu.Lock()
	defer a.pubMu.Unlock()
	if a.conn == nil {
		return
	}
	if err := bus.Publish(a.conn, bus.SubjMetaUpdate, bus.MetaUpdate{Version: c.Version, Kind: string(c.Kind), Payload: payload}); err != nil {
		a.log.Warn("publish metadata change", "version", c.Version, "err", err)
	}
}

// serveBus answers the shards: metadata snapshots, controller requests,
// readiness reports.
func (a *Agent) serveBus() error {
	if _, err := bus.Respond(a.conn, bus.SubjMetaSnapshot, func(bus.MetaSnapshotRequest) bus.MetaSnapshot {
		st := a.ctrl.State()
		payload, _ := json.Marshal(st)
		return bus.MetaSnapshot{Version: st.Version, Payload: payload}
	}); err != nil {
		return err
	}
	if _, err := bus.RespondAsync(a.conn, bus.SubjCtrlRequest, func(req bus.CtrlRequest, reply func(bus.CtrlReply) error) {
		go func() {
			var r ctrlapi.Request
			if err := json.Unmarshal(req.Payload, &r); err != nil {
				reply(bus.CtrlReply{Error: "bad controller request: " + err.Error()})
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rep := a.control(ctx, r)
			payload, _ := json.Marshal(rep)
			reply(bus.CtrlReply{Payload: payload})
		}()
	}); err != nil {
		return err
	}
	_, err := bus.Subscribe(a.conn, bus.SubjShardReadyAll, func(r bus.ShardReady) {
		a.readyMu.Lock()
		a.ready[r.ShardID] = r.PID
		a.readyMu.Unlock()
		a.log.Info("shard ready", "shard", r.ShardID, "pid", r.PID)
	})
	return err
}

// control runs one controller request for a shard or the admin API.
func (a *Agent) control(ctx context.Context, r ctrlapi.Request) ctrlapi.Reply {
	var ch metadata.Change
	var version uint64
	var err error
	switch {
	case r.Op == ctrlapi.OpCreateTopic && r.CreateTopic != nil:
		c := r.CreateTopic
		ch, err = a.ctrl.CreateTopic(ctx, controller.CreateTopicRequest{
			Name: c.Name, Partitions: c.Partitions, ReplicationFactor: c.ReplicationFactor,
			Configs: c.Configs, ValidateOnly: c.ValidateOnly,
		})
	case r.Op == ctrlapi.OpDeleteTopic && r.DeleteTopic != nil:
		if r.DeleteTopic.Name != "" {
			ch, err = a.ctrl.DeleteTopic(ctx, r.DeleteTopic.Name)
		} else {
			ch, err = a.ctrl.DeleteTopicByID(ctx, r.DeleteTopic.ID)
		}
	case r.Op == ctrlapi.OpCreatePartitions && r.CreatePartitions != nil:
		c := r.CreatePartitions
		ch, err = a.ctrl.CreatePartitions(ctx, controller.CreatePartitionsRequest{Topic: c.Name, Count: c.Count, ValidateOnly: c.ValidateOnly})
	case r.Op == ctrlapi.OpAlterTopicConfig && r.AlterTopicConfig != nil:
		c := r.AlterTopicConfig
		del := c.Delete
		if c.Replace {
			del = replacedKeys(a.ctrl.State(), c.Name, c.Set, del)
		}
		ch, err = a.ctrl.AlterTopicConfig(ctx, controller.AlterTopicConfigRequest{Topic: c.Name, Set: c.Set, Delete: del, ValidateOnly: c.ValidateOnly})
	case r.Op == ctrlapi.OpSetClusterConfig && r.SetClusterConfig != nil:
		version, err = a.ctrl.SetClusterConfig(ctx, r.SetClusterConfig.Upsert, r.SetClusterConfig.Remove)
	default:
		err = fmt.Errorf("%w: unknown controller op %q", errBadRequest, r.Op)
	}
	rep := ctrlapi.Reply{Version: ch.Version, Topic: ch.Topic}
	if version != 0 {
		rep.Version = version
	}
	if err != nil {
		rep.ErrorCode = controller.ErrorCode(err)
		if errors.Is(err, errBadRequest) {
			rep.ErrorCode = 42 // INVALID_REQUEST
		}
		rep.Message = err.Error()
	}
	return rep
}

var errBadRequest = errors.New("bad request")

// replacedKeys returns del plus the topic's config keys that set does not
// keep: with Replace (Kafka's AlterConfigs) the configs become exactly set.
// It reads the state now; a change committed between this read and the
// proposal keeps the keys it added.
func replacedKeys(st *metadata.State, topic string, set map[string]string, del []string) []string {
	t, ok := st.Topic(topic)
	if !ok {
		return del // the controller answers unknown topic
	}
	for k := range t.Configs {
		if _, keep := set[k]; !keep && !slices.Contains(del, k) {
			del = append(del, k)
		}
	}
	return del
}

func (a *Agent) setNotReady(i int) {
	a.readyMu.Lock()
	delete(a.ready, i)
	a.readyMu.Unlock()
}

// Ready reports whether every shard is serving.
func (a *Agent) Ready() (serving, total int) {
	a.readyMu.Lock()
	defer a.readyMu.Unlock()
	return len(a.ready), len(a.shards)
}

// watchReady tells systemd READY=1 the first time every shard serves.
func (a *Agent) watchReady(ctx context.Context) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s, n := a.Ready(); n > 0 && s == n {
			a.log.Info("node ready", "kafka", a.kafkaAddr, "shards", n)
			a.opts.Status("READY", fmt.Sprintf("serving Kafka on %s with %d shards", a.kafkaAddr, n))
			return
		}
	}
}

// clusterStrings turns the config's initial cluster values into the
// controller's string map.
func clusterStrings(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v == nil {
			continue
		}
		out[k] = config.ClusterValueText(v)
	}
	return out
}

func clusterInt(m map[string]any, key string, def int64) int64 {
	if v, ok := m[key]; ok {
		if n, err := strconv.ParseInt(fmt.Sprint(v), 10, 64); err == nil {
			return n
		}
	}
	return def
}
