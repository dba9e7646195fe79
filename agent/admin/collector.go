package admin

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"

	"github.com/ailurus/ailurus/internal/bus"
)

// ErrBadPush: a metrics push that cannot be used (unparsable Prometheus
// text, or a subject that is not bus.MetricsSubject's). Returned wrapped by
// Collector.Push.
var ErrBadPush = errors.New("bad metrics push")

// Labels the Collector adds to every pushed series that lacks them.
const (
	labelRole  = "role"  // bus.RoleShard, bus.RoleUploader, ...
	labelShard = "shard" // the process id of the push's subject (the shard id for shards, 0 otherwise)
)

// CollectorOptions configures NewCollector.
type CollectorOptions struct {
	// Logger receives rejected pushes (subsys=admin). nil discards.
	Logger *slog.Logger
	// Metrics counts rejected pushes; nil does not count.
	Metrics *Metrics
	// MaxAge drops a process's metrics from scrapes once its last push is
	// older than this (a child that died without the agent calling Forget).
	// 0 keeps them until Forget or the next push.
	MaxAge time.Duration
	// Now is the clock; nil means time.Now. Tests set it.
	Now func() time.Time
}

// Collector keeps the latest metrics push of each child process, by (role,
// id), and serves them as a prometheus.Gatherer, merged by family, with the
// labels role and shard added to every series that lacks them. The agent
// creates one, feeds it from its subscription to bus.SubjMetricsAll
// (HandleBusMessage), calls Forget when a child exits for good, and passes it
// in Config.Collector. Safe for concurrent use; a push replaces the previous
// one of the same process whole.
type Collector struct {
	log     *slog.Logger
	metrics *Metrics
	maxAge  time.Duration
	now     func() time.Time

	mu      sync.Mutex
	latest  map[source]pushed // guarded by mu
	failing map[source]bool   // sources whose last push was rejected; guarded by mu
}

var _ prometheus.Gatherer = (*Collector)(nil)

// source is one pushing process.
type source struct {
	role string
	id   int
}

// pushed is one parsed push. families are never modified once stored: Gather
// hands out copies.
type pushed struct {
	at       time.Time
	families []*dto.MetricFamily // sorted by name; labels sorted, role and shard present
}

// NewCollector returns an empty Collector.
func NewCollector(opts CollectorOptions) *Collector {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Collector{
		log:     log.With("subsys", "admin"),
		metrics: opts.Metrics,
		maxAge:  opts.MaxAge,
		now:     now,
		latest:  map[source]pushed{},
		failing: map[source]bool{},
	}
}

// HandleBusMessage takes one message of the bus.SubjMetricsAll subscription
// (bus.SubscribeRaw's callback signature). A bad push is counted, logged the
// first time its process sends one, and dropped; the process's previous push
// stays.
func (c *Collector) HandleBusMessage(subject string, data []byte) {
	role, id, ok := bus.ParseMetricsSubject(subject)
	if !ok {
		c.metrics.pushRejected("unknown")
		c.log.Warn("metrics push on unexpected subject dropped", "subject", subject)
		return
	}
	if err := c.Push(role, id, data); err != nil {
		c.metrics.pushRejected(role)
		src := source{role, id}
		c.mu.Lock()
		first := !c.failing[src]
		c.failing[src] = true
		c.mu.Unlock()
		if first {
			c.log.Warn("metrics push dropped", "role", role, "id", id, "err", err)
		}
	}
}

// Push replaces the metrics of process (role, id) with text, a Prometheus
// text exposition (format 0.0.4). On error nothing changes. The text is not
// kept.
func (c *Collector) Push(role string, id int, text []byte) error {
	if role == "" || id < 0 {
		return fmt.Errorf("%w: role %q id %d", ErrBadPush, role, id)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := parser.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		return fmt.Errorf("%w from %s %d: %w", ErrBadPush, role, id, err)
	}
	families := make([]*dto.MetricFamily, 0, len(byName))
	idText := strconv.Itoa(id)
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		mf := byName[name]
		for _, m := range mf.Metric {
			m.Label = withLabel(m.Label, labelRole, role)
			m.Label = withLabel(m.Label, labelShard, idText)
			slices.SortFunc(m.Label, func(a, b *dto.LabelPair) int { return cmp.Compare(a.GetName(), b.GetName()) })
		}
		families = append(families, mf)
	}
	src := source{role, id}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latest[src] = pushed{at: c.now(), families: families}
	if c.failing[src] {
		delete(c.failing, src)
		c.log.Info("metrics push accepted again", "role", role, "id", id)
	}
	return nil
}

// withLabel returns labels with name=value added unless a label of that name
// is already there.
func withLabel(labels []*dto.LabelPair, name, value string) []*dto.LabelPair {
	for _, l := range labels {
		if l.GetName() == name {
			return labels
		}
	}
	return append(labels, &dto.LabelPair{Name: proto.String(name), Value: proto.String(value)})
}

// Forget drops the metrics of process (role, id): the agent calls it when a
// child stops for good (a shard removed, the uploader disabled). A child that
// restarts simply pushes again.
func (c *Collector) Forget(role string, id int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.latest, source{role, id})
	delete(c.failing, source{role, id})
}

// Gather returns a copy of the latest pushes, families of the same name from
// different processes merged into one. A family whose type differs from the
// one first seen under its name (processes of different versions) is left
// out and reported in the error, a prometheus.MultiError; the rest is still
// returned.
func (c *Collector) Gather() ([]*dto.MetricFamily, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	sources := slices.SortedFunc(maps.Keys(c.latest), func(a, b source) int {
		return cmp.Or(cmp.Compare(a.role, b.role), cmp.Compare(a.id, b.id))
	})
	var (
		byName = map[string]*dto.MetricFamily{}
		errs   prometheus.MultiError
	)
	for _, src := range sources {
		p := c.latest[src]
		if c.maxAge > 0 && now.Sub(p.at) > c.maxAge {
			delete(c.latest, src)
			c.log.Info("metrics of silent process dropped", "role", src.role, "id", src.id,
				"last_push", p.at)
			continue
		}
		for _, mf := range p.families {
			merged, ok := byName[mf.GetName()]
			if !ok {
				merged = &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type, Unit: mf.Unit}
				byName[mf.GetName()] = merged
			} else if merged.GetType() != mf.GetType() {
				errs = append(errs, fmt.Errorf("metric family %s from %s %d is a %s, elsewhere a %s: left out",
					mf.GetName(), src.role, src.id, mf.GetType(), merged.GetType()))
				continue
			}
			for _, m := range mf.Metric {
				merged.Metric = append(merged.Metric, proto.Clone(m).(*dto.Metric))
			}
		}
	}
	out := make([]*dto.MetricFamily, 0, len(byName))
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		out = append(out, byName[name])
	}
	return out, errs.MaybeUnwrap()
}
