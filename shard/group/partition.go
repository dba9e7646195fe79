package group

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Error codes answered, as Kafka defines them.
var (
	codeRebalanceInProgress   = kerr.RebalanceInProgress.Code
	codeUnknownMemberID       = kerr.UnknownMemberID.Code
	codeIllegalGeneration     = kerr.IllegalGeneration.Code
	codeFencedInstanceID      = kerr.FencedInstanceID.Code
	codeMemberIDRequired      = kerr.MemberIDRequired.Code
	codeInconsistentProtocol  = kerr.InconsistentGroupProtocol.Code
	codeInvalidSessionTimeout = kerr.InvalidSessionTimeout.Code
	codeInvalidGroupID        = kerr.InvalidGroupID.Code
	codeCoordinatorNotAvail   = kerr.CoordinatorNotAvailable.Code
	codeNotCoordinator        = kerr.NotCoordinator.Code
	codeGroupIDNotFound       = kerr.GroupIDNotFound.Code
	codeNonEmptyGroup         = kerr.NonEmptyGroup.Code
	codeUnknownTopicPartition = kerr.UnknownTopicOrPartition.Code
	codeMetadataTooLarge      = kerr.OffsetMetadataTooLarge.Code
	codeSubscribedToTopic     = kerr.GroupSubscribedToTopic.Code
	codeUnknownServerError    = kerr.UnknownServerError.Code
)

// maxOffsetMetadata is offset.metadata.max.bytes.
const maxOffsetMetadata = 4096

// tickEvery is the granularity of session and rebalance timers.
const tickEvery = 100 * time.Millisecond

// Partition is the coordinator of the groups hashed to one partition of
// __consumer_offsets. Create with NewPartition once the partition's log has
// been replayed through Load; Close when the partition closes. Safe for
// concurrent use by request goroutines.
type Partition struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	groups map[string]*Group
	// txnGroups: producer id -> groups holding its pending transactional
	// offsets (txnoffsets.go).
	txnGroups map[int64]map[string]struct{}
	closed    atomic.Bool // set by Close: every request answers NOT_COORDINATOR

	stop chan struct{}
	done chan struct{}
}

// NewPartition builds the coordinator. Call Load with the partition's
// records, then Start.
func NewPartition(cfg Config) *Partition {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MinSession == 0 {
		cfg.MinSession = 6 * time.Second
	}
	if cfg.MaxSession == 0 {
		cfg.MaxSession = 300 * time.Second
	}
	if cfg.ConsumerSession == 0 {
		cfg.ConsumerSession = 45 * time.Second
	}
	if cfg.ConsumerHeartbeat == 0 {
		cfg.ConsumerHeartbeat = 5 * time.Second
	}
	if cfg.OffsetExpiryCheck == 0 {
		cfg.OffsetExpiryCheck = time.Minute
	}
	return &Partition{cfg: cfg, log: cfg.Logger.With("subsys", "group"), groups: map[string]*Group{},
		stop: make(chan struct{}), done: make(chan struct{})}
}

func (p *Partition) now() time.Time { return p.cfg.Now() }

// Start runs the timers (session expiry, rebalance deadlines) until Close.
func (p *Partition) Start() {
	go func() {
		defer close(p.done)
		t := time.NewTicker(tickEvery)
		defer t.Stop()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { <-p.stop; cancel() }()
		var lastExpiry time.Time
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
			now := p.now()
			if now.Sub(lastExpiry) >= p.cfg.OffsetExpiryCheck {
				lastExpiry = now
				p.expireOffsets(ctx, now)
			}
			for _, g := range p.list() {
				g.p.lockGroup(g)
				g.tick(now)
				g.mu().Unlock()
			}
		}
	}()
}

// Close stops the timers and fails the requests still waiting with
// NOT_COORDINATOR; the groups are reloaded by whoever opens the partition
// next.
func (p *Partition) Close() {
	select {
	case <-p.stop:
		return
	default:
	}
	p.closed.Store(true)
	close(p.stop)
	<-p.done
	groups := p.list()
	p.mu.Lock()
	clear(p.groups)
	p.mu.Unlock()
	for _, g := range groups {
		p.lockGroup(g)
		for _, m := range g.members {
			if m.joinCh != nil {
				m.joinCh <- joinError(m.joinVersion, codeNotCoordinator, m.id)
				m.joinCh = nil
			}
			if m.syncCh != nil {
				m.syncCh <- syncResult{code: codeNotCoordinator}
				m.syncCh = nil
			}
		}
		g.st = stateDead
		g.mu().Unlock()
	}
}

// list is a snapshot of the groups.
func (p *Partition) list() []*Group {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*Group, 0, len(p.groups))
	for _, g := range p.groups {
		out = append(out, g)
	}
	return out
}

// Closed says whether the coordinator has been closed (its partition
// closed): requests then answer NOT_COORDINATOR.
func (p *Partition) Closed() bool { return p.closed.Load() }

// group returns the group, creating it (Empty) when create is set; nil if
// it does not exist or the coordinator is closed. The group comes back
// locked.
func (p *Partition) group(id string, create bool) *Group {
	if p.closed.Load() {
		return nil
	}
	p.mu.Lock()
	g := p.groups[id]
	if g == nil {
		if !create {
			p.mu.Unlock()
			return nil
		}
		g = p.newGroup(id)
		p.groups[id] = g
	}
	p.mu.Unlock()
	p.lockGroup(g)
	if g.st == stateDead {
		// Deleted (or unloaded) between the lookup and the lock.
		g.mu().Unlock()
		if create {
			return p.group(id, create)
		}
		return nil
	}
	return g
}

func (p *Partition) newGroup(id string) *Group {
	return &Group{p: p, id: id, members: map[string]*member{}, static: map[string]string{},
		pending: map[string]time.Time{}, offsets: map[string]map[int32]committed{}, stateSince: p.now()}
}

// remove drops a dead group from the map.
func (p *Partition) remove(g *Group) {
	p.mu.Lock()
	if p.groups[g.id] == g {
		delete(p.groups, g.id)
	}
	p.mu.Unlock()
}

func (g *Group) mu() *sync.Mutex { return &g.lk }

func (p *Partition) lockGroup(g *Group) { g.lk.Lock() }

// append writes records durably with the group lock held.
func (g *Group) append(ctx context.Context, recs []Record) int16 {
	if len(recs) == 0 {
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := g.p.cfg.Log.Append(ctx, recs); err != nil {
		g.p.log.Warn("write to __consumer_offsets failed", "group", g.id, "err", err)
		if err == ErrNotCoordinator {
			return codeNotCoordinator
		}
		return codeCoordinatorNotAvail
	}
	return 0
}
