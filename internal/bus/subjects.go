package bus

import (
	"strconv"
	"strings"
)

// Subjects. Every subject on the bus is built here; no other package writes a
// subject string. The README has the table of who publishes and who listens.
const (
	// SubjMetaUpdate carries MetaUpdate, published by the agent (controller
	// FSM apply goroutine) in version order; every shard listens through a
	// MetaFollower.
	SubjMetaUpdate = "ailurus.meta.update"

	// SubjMetaSnapshot is request/reply: MetaSnapshotRequest -> MetaSnapshot.
	// The agent responds; a shard's MetaFollower asks at start and after a gap.
	SubjMetaSnapshot = "ailurus.meta.snapshot"

	// SubjShardHealthAll matches every shard's health subject (agent side).
	SubjShardHealthAll = "ailurus.shard.*.health"

	// SubjShardReadyAll matches every shard's ready subject (agent side).
	SubjShardReadyAll = "ailurus.shard.*.ready"

	// SubjSegmentClosed carries SegmentClosed, published by a shard when it
	// rolls a segment; the uploader listens.
	SubjSegmentClosed = "ailurus.segment.closed"

	// SubjTieredHydrate is request/reply: HydrateRequest -> HydrateReply.
	// A shard asks, the uploader responds.
	SubjTieredHydrate = "ailurus.tiered.hydrate"

	// SubjMetricsAll matches every metrics push (agent side).
	SubjMetricsAll = "ailurus.metrics.>"

	// SubjCtrlRequest is request/reply: CtrlRequest -> CtrlReply. A child
	// asks, the agent (controller) responds.
	SubjCtrlRequest = "ailurus.ctrl.request"
)

// Roles, the <role> token of a metrics subject.
const (
	RoleAgent       = "agent"
	RoleShard       = "shard"
	RoleUploader    = "uploader"
	RoleTransformer = "transformer"
)

const (
	shardPrefix   = "ailurus.shard."
	metricsPrefix = "ailurus.metrics."
)

// ShardHealthSubject is where shard id publishes ShardHealth.
func ShardHealthSubject(id int) string {
	return shardPrefix + strconv.Itoa(id) + ".health"
}

// ShardReadySubject is where shard id publishes ShardReady.
func ShardReadySubject(id int) string {
	return shardPrefix + strconv.Itoa(id) + ".ready"
}

// MetricsSubject is where process id of the given role pushes its Prometheus
// text exposition. Roles with a single process per node use id 0. role must
// be one of the Role constants.
func MetricsSubject(role string, id int) string {
	return metricsPrefix + role + "." + strconv.Itoa(id)
}

// ParseShardSubject returns the shard id and the event ("health" or "ready")
// of a subject built by ShardHealthSubject or ShardReadySubject.
func ParseShardSubject(subject string) (id int, event string, ok bool) {
	rest, found := strings.CutPrefix(subject, shardPrefix)
	if !found {
		return 0, "", false
	}
	idText, event, found := strings.Cut(rest, ".")
	if !found || (event != "health" && event != "ready") {
		return 0, "", false
	}
	id, err := strconv.Atoi(idText)
	if err != nil || id < 0 {
		return 0, "", false
	}
	return id, event, true
}

// ParseMetricsSubject returns the role and id of a subject built by
// MetricsSubject.
func ParseMetricsSubject(subject string) (role string, id int, ok bool) {
	rest, found := strings.CutPrefix(subject, metricsPrefix)
	if !found {
		return "", 0, false
	}
	role, idText, found := strings.Cut(rest, ".")
	if !found || role == "" {
		return "", 0, false
	}
	id, err := strconv.Atoi(idText)
	if err != nil || id < 0 {
		return "", 0, false
	}
	return role, id, true
}
