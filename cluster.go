package failover

import (
	"context"
	"time"
)

// Cluster lets several Managers with the same configuration run as one
// deployment: every instance checks every endpoint and publishes its own
// verdicts; each endpoint's health is the [Quorum] of the verdicts of the
// live instances; one elected leader decides and writes, under a lease; the
// state a decision needs beyond one check (failback timers, stable-since,
// the active tier) and the operators' state (overrides, manual failback
// requests) are kept in the cluster, so that they outlive any instance.
// Package cluster/etcd implements it on etcd; cluster/memory in memory, for
// tests.
//
// Every method is safe for concurrent use. Only Run and the operator calls
// (SetOverride, RequestFailback), which take a context, ever wait on the
// network; every other method answers from memory at once, so the
// Manager's loop and writers never block on the cluster. Writes the loop
// asks for (verdicts, decision state) are queued, coalesced to the latest
// value per key, and sent in the background, only when they differ from
// what the cluster already holds: a cluster at rest sends nothing but the
// keep-alives of its lease.
//
// When the cluster's store cannot be reached, the instance keeps checking
// and deciding from what it knows, Lead refuses every write once the lease
// may have expired, Status says why, and when the store returns the
// instance takes part again without a restart (a new lease, its verdicts
// published again).
type Cluster interface {
	// Instance returns this instance's name, unique in the cluster.
	Instance() string

	// LeaseTTL returns the time to live of the instance's lease: after a
	// crash or a partition, another instance takes over within it. New
	// refuses a Cluster whose LeaseTTL is not above Config.ProviderTimeout,
	// since a leader must be able to finish a write within its lease.
	LeaseTTL() time.Duration

	// Run takes part in the cluster until ctx is done: it holds the
	// instance's lease, campaigns for leadership, sends what was queued and
	// watches the others. The Manager calls it once, from Run, in a
	// goroutine of its own started before its loop. While the store cannot
	// be reached it keeps trying. On the way out it gives up leadership and
	// revokes its lease, so that another instance takes over at once, and it
	// returns only after everything it started has stopped. It returns nil
	// when ctx ends, or an error when it cannot take part at all (such as a
	// second Run, or an instance name already live in the cluster).
	Run(ctx context.Context) error

	// PublishVerdict records this instance's own verdict on an endpoint,
	// as its checks (watched and confirmed, when the checker watches) have
	// decided it. The loop calls it on every change of a probe's health,
	// once for each endpoint the probe serves (endpoints of several
	// records share a probe when they check the same target alike), and
	// reads the votes of each endpoint under its own EndpointID: instances
	// whose configurations differ (during a rolling change) still agree
	// where they check the same thing. A change of health so costs one
	// write per endpoint the probe serves. The verdict is attached to the
	// instance's lease: it disappears with the instance. HealthUnknown
	// withdraws the verdict.
	PublishVerdict(id EndpointID, h Health)

	// Votes returns the verdict of every live instance on id, this
	// instance's included, sorted by instance name; a live instance that
	// has no verdict on id is listed with HealthUnknown. While this
	// instance holds no lease it sees no other instance: Votes returns its
	// own verdict alone (it cannot write then anyway). The Manager does
	// not read votes while Status says it is not connected: its endpoints
	// have no cluster health then, and the isolation it found stays.
	Votes(id EndpointID) []Vote

	// Lead is the gate before every call a writer makes to a provider. It
	// reports ok only when this instance is the leader and its lease, as
	// last renewed, has more than need left (the writer passes
	// ProviderTimeout). Then ctx ends when the leadership ends (the lease was
	// lost or revoked, or Run stopped), and at the lease's expiry at the
	// latest, so a call made under it cannot outlive the leadership; term
	// identifies the leadership, and is larger for later ones: a writer
	// that sees a term other than the one it last wrote under reads the
	// zone before it writes. It never blocks; any goroutine may call it.
	Lead(need time.Duration) (ctx context.Context, term int64, ok bool)

	// SaveDecision stores the decision state of a record (the Manager's
	// encoding, opaque to the cluster). Only a leader's saves are kept:
	// while this instance does not lead, they are dropped. The loop calls
	// it after a decision that changed what must outlive the leader (not
	// after a failing check that only moves the TTL's stable-since); a
	// state equal to the one stored is not written again.
	SaveDecision(rec RecordID, state []byte)

	// Decision returns the decision state stored for rec, if any. When Lead
	// first reports a new term, Decision returns what the previous leader
	// stored: the new leader, which adopts what DNS holds as a single
	// Manager starting does, takes from it the timers of a record where
	// DNS holds what it decided, so that a takeover neither restarts a
	// failback delay nor writes what DNS already holds.
	Decision(rec RecordID) (state []byte, ok bool)

	// SetOverride stores an operator's override of an endpoint (NoOverride
	// clears it) until the given time (zero: until cleared), for every
	// instance; it survives the restart of every instance. It waits until
	// the store has it, or ctx ends. Overrides past their time are removed
	// by the leader.
	SetOverride(ctx context.Context, id EndpointID, o Override, until time.Time) error

	// Overrides returns the overrides in force, as last seen, sorted by
	// endpoint.
	Overrides() []OverrideState

	// RequestFailback stores an operator's request that rec fail back now
	// (see Manager.Failback), for the leader to take. It waits until the
	// store has it, or ctx ends.
	RequestFailback(ctx context.Context, rec RecordID) error

	// TakeFailback reports whether a failback of rec was requested and, if
	// so, removes the request (in the background, only while this instance
	// leads). The leader's loop calls it when it decides rec.
	TakeFailback(rec RecordID) bool

	// Changed returns a channel (capacity 1) that receives a value whenever
	// TakeChanges has something to report. The loop selects on it. As its
	// Run starts, the Manager reads every vote and asks Lead, whatever
	// Changed says: a Cluster that already runs (lent across a reload)
	// need not report what it already holds.
	Changed() <-chan struct{}

	// TakeChanges returns what changed since the last call and forgets it.
	TakeChanges() ClusterChanges

	// Status returns a snapshot of the instance's view of the cluster.
	Status() ClusterStatus
}

// EndpointID names an endpoint of a record across instances.
type EndpointID struct {
	Record RecordID
	Value  string // the endpoint's value, as normalised by New
}

// Vote is one live instance's verdict on one endpoint.
type Vote struct {
	Instance string `json:"instance"`
	Health   Health `json:"health"`
}

// OverrideState is an operator's override stored in the cluster.
type OverrideState struct {
	Endpoint EndpointID
	Override Override  // ForceUp or ForceDown
	Until    time.Time // zero: until cleared
}

// ClusterChanges is what changed in the cluster since the loop last asked.
type ClusterChanges struct {
	// Endpoints whose votes changed.
	Endpoints []EndpointID
	// Records whose operator state changed: an override of one of their
	// endpoints, or a failback request.
	Records []RecordID
	// Leadership is set when this instance became leader or stopped being
	// one.
	Leadership bool
	// Everything is set when the instance's view was rebuilt (it got a new
	// lease, or an instance joined or left): every endpoint and record is to
	// be considered again.
	Everything bool
}

// ClusterStatus is an instance's view of its cluster.
type ClusterStatus struct {
	Instance  string   `json:"instance"`
	Instances []string `json:"instances"`        // live instances, sorted, this one included while it holds a lease
	Leader    string   `json:"leader,omitempty"` // empty when not known
	Leading   bool     `json:"leading"`
	// Connected is set while the instance holds a live lease.
	Connected bool `json:"connected"`
	// LeaseLeft is how long the lease lasts if it is not renewed again.
	LeaseLeft time.Duration `json:"lease_left"`
	// Err says why the instance is not connected or cannot lead, such as
	// "etcd: no quorum"; empty when all is well.
	Err string `json:"error,omitempty"`
}
