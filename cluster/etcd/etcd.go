// Package etcd implements [failover.Cluster] on etcd: several Managers,
// each given a Cluster from New with its own instance name and one etcd
// client, run as one deployment with one writer.
//
// Each instance holds a session lease (Options.LeaseTTL) that it renews
// itself, so that it knows, conservatively, when the lease may expire: the
// time it sent the last renewal that etcd acknowledged, plus the TTL. Its
// instance key and its verdicts live under that lease and vanish with it.
// The instances elect a leader with the concurrency package's Election on
// that lease; a leader's decision state is written in a transaction that
// succeeds only while its election key still exists, so a deposed leader
// cannot overwrite its successor's. Operator state has no lease and
// outlives every instance.
//
// Everything is written only when it changes; at rest the cluster sends
// etcd nothing but lease renewals (each instance one per LeaseTTL/3), which
// are not raft proposals.
package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/clusterchanges"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Defaults for Options fields left at zero.
const (
	DefaultPrefix   = "/failover/"
	DefaultLeaseTTL = 10 * time.Second
)

// Options configure a Cluster.
type Options struct {
	// Client reaches the etcd cluster. Required. The Cluster does not close
	// it.
	Client *clientv3.Client
	// Instance names this instance, unique among the live instances
	// sharing Prefix: Run fails while another live instance holds the
	// name. Required: any characters but a slash (spaces, commas,
	// non-ASCII letters), as keys hold it path-escaped.
	Instance string
	// Prefix under which every key is kept; deployments that share an etcd
	// cluster use different prefixes. Zero means DefaultPrefix. A trailing
	// slash is added when missing.
	Prefix string
	// LeaseTTL is the lease's time to live, in whole seconds: another
	// instance takes over within it after this one fails. Zero means
	// DefaultLeaseTTL. It must be above the Manager's ProviderTimeout, and
	// at least etcd's minimum, 1.5 × its election timeout rounded up to
	// whole seconds (2 s under etcd's default election timeout of 1 s):
	// etcd grants a longer lease than asked for below it, and Run then
	// returns an error rather than promise a takeover it cannot keep.
	LeaseTTL time.Duration
	// Logger receives the cluster's errors. Nil means none.
	Logger *slog.Logger
}

// maxOps bounds the operations of one transaction (etcd's default
// --max-txn-ops is 128).
const maxOps = 128

// Cluster is an instance's membership of a cluster kept in etcd. Create one
// with New and give it to the Manager; it is safe for concurrent use.
type Cluster struct {
	cli    *clientv3.Client
	name   string
	prefix string
	ttl    time.Duration
	log    *slog.Logger

	started atomic.Bool
	stale   clientv3.LeaseID // an ended session's lease not known to be revoked; Run's goroutine only
	changed chan struct{}    // capacity 1: changes are waiting
	flush   chan struct{}    // capacity 1: writes are waiting

	mu sync.Mutex
	v  view
	// what this instance asked for and what etcd holds of it
	own     map[failover.EndpointID]failover.Health // own verdicts, as published
	written map[failover.EndpointID]failover.Health // own verdicts etcd holds under the current lease
	dirty   map[failover.EndpointID]bool            // own verdicts to compare and write
	saves   map[failover.RecordID][]byte            // decision states to write
	takes   map[failover.RecordID]int64             // failback requests to delete, by mod revision
	changes clusterchanges.Pending                  // for TakeChanges
	// the session and leadership
	connected bool
	expires   time.Time // when the lease may expire (monotonic)
	leading   bool
	term      int64
	leaderKey string
	leadCtx   context.Context
	endLead   context.CancelFunc
	leadLease leaseContext // for Lead: leadCtx, ending at expires at the latest
	err       string
}

// New returns a Cluster for the instance. It starts nothing and sends
// nothing to etcd: the Manager's Run calls Run.
func New(o Options) (*Cluster, error) {
	var errs []error
	if o.Client == nil {
		errs = append(errs, errors.New("etcd cluster: Client is required"))
	}
	if o.Instance == "" || strings.ContainsAny(o.Instance, "/") {
		errs = append(errs, fmt.Errorf("etcd cluster: Instance %q must be a non-empty name without a slash", o.Instance))
	}
	if o.LeaseTTL == 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.LeaseTTL < time.Second || o.LeaseTTL%time.Second != 0 {
		errs = append(errs, fmt.Errorf("etcd cluster: LeaseTTL %v must be a whole number of seconds, at least 1 s", o.LeaseTTL))
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Cluster{
		cli: o.Client, name: o.Instance, prefix: o.Prefix, ttl: o.LeaseTTL, log: o.Logger,
		changed: make(chan struct{}, 1), flush: make(chan struct{}, 1),
		v:   newView(o.Instance),
		own: map[failover.EndpointID]failover.Health{}, written: map[failover.EndpointID]failover.Health{},
		dirty: map[failover.EndpointID]bool{}, saves: map[failover.RecordID][]byte{}, takes: map[failover.RecordID]int64{},
		err: "not started",
	}, nil
}

var _ failover.Cluster = (*Cluster)(nil)

// Instance returns the instance's name.
func (c *Cluster) Instance() string { return c.name }

// LeaseTTL returns the lease's time to live, Options.LeaseTTL: the one
// etcd grants, as Run refuses any other.
func (c *Cluster) LeaseTTL() time.Duration { return c.ttl }

// Run takes part in the cluster until ctx is done; see failover.Cluster.
// Each time the session is lost (the lease expired or could not be renewed,
// as when etcd lost its quorum for longer than the TTL) it starts a new
// one, after a pause of a quarter of the TTL. A failed watch, campaign or
// write does not end the session: it is tried again under the same lease
// (meanwhile Status's Err says the view may be stale), so that an etcd
// leader election does not delete and rewrite every verdict.
//
// The instance's name is taken atomically: while another lease holds it,
// Run waits for that lease to expire (an instance of that name that
// crashed, or this one's own lease of before a partition), and returns an
// error if it is still held after that lease's time to live and a second:
// a live instance renews it, and has the same name. It also returns an
// error when etcd grants a lease longer than LeaseTTL (see
// Options.LeaseTTL).
func (c *Cluster) Run(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("etcd cluster: Run called twice")
	}
	var taken *nameTakenError // the lease seen holding the name
	var giveUp time.Time      // when it would have expired, unless renewed
	for ctx.Err() == nil {
		err := c.session(ctx)
		if ctx.Err() != nil {
			break
		}
		if errors.Is(err, errTTLRaised) {
			return err
		}
		var nt *nameTakenError
		switch {
		case !errors.As(err, &nt):
			taken = nil
		case taken == nil || taken.lease != nt.lease:
			taken, giveUp = nt, time.Now().Add(nt.left+time.Second)
		case !time.Now().Before(giveUp):
			err = fmt.Errorf("etcd cluster: %w and renewed past its time to live: another live instance has this name", err)
			c.lost(err)
			return err
		}
		c.log.Warn("etcd cluster: session lost", "instance", c.name, "err", err)
		t := time.NewTimer(c.ttl / 4)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	c.mu.Lock()
	c.err = "stopped"
	c.mu.Unlock()
	return nil
}

// Status returns the instance's view of the cluster.
func (c *Cluster) Status() failover.ClusterStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := failover.ClusterStatus{Instance: c.name, Connected: c.connected, Leading: c.leading, Err: c.err}
	if c.connected {
		s.Instances = c.v.instanceNames()
		s.Leader = c.v.leader()
		s.LeaseLeft = max(time.Until(c.expires), 0)
	}
	return s
}

// Changed returns the channel that signals waiting changes.
func (c *Cluster) Changed() <-chan struct{} { return c.changed }

// TakeChanges returns what changed since the last call.
func (c *Cluster) TakeChanges() failover.ClusterChanges {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changes.Take()
}

// signal wakes whoever waits on ch, without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// noteLocked records changes for the loop; c.mu is held.
func (c *Cluster) noteLocked(ch change) {
	switch {
	case ch.everything:
		c.changes.Everything = true
	case ch.endpoint != nil:
		c.changes.Endpoint(*ch.endpoint)
	case ch.record != nil:
		c.changes.Record(*ch.record)
	default:
		return
	}
	signal(c.changed)
}

// PublishVerdict records this instance's verdict; it is written in the
// background when it differs from what etcd holds.
func (c *Cluster) PublishVerdict(id failover.EndpointID, h failover.Health) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.own[id] == h {
		return
	}
	if h == failover.HealthUnknown {
		delete(c.own, id)
	} else {
		c.own[id] = h
	}
	c.dirty[id] = true
	signal(c.flush)
}

// Votes returns the verdict of every live instance on id.
func (c *Cluster) Votes(id failover.EndpointID) []failover.Vote {
	c.mu.Lock()
	defer c.mu.Unlock()
	own := failover.Vote{Instance: c.name, Health: c.own[id]}
	if !c.connected {
		return []failover.Vote{own}
	}
	var out []failover.Vote
	for _, inst := range c.v.instanceNames() {
		if inst == c.name {
			out = append(out, own)
		} else {
			out = append(out, failover.Vote{Instance: inst, Health: c.v.verdicts[id][inst]})
		}
	}
	if _, ok := c.v.instances[c.name]; !ok { // our key is not seen yet
		out = append(out, own)
		slices.SortFunc(out, func(a, b failover.Vote) int { return strings.Compare(a.Instance, b.Instance) })
	}
	return out
}

// Lead is the write gate; see failover.Cluster. Its context ends when the
// leadership ends, and has the lease's conservative expiry as its
// deadline: the one known when Lead was called (a later renewal does not
// extend a context already handed out).
func (c *Cluster) Lead(need time.Duration) (context.Context, int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.leading || c.leadCtx.Err() != nil || time.Until(c.expires) <= need {
		return nil, 0, false
	}
	return c.leadLease.until(c.leadCtx, c.expires), c.term, true
}

// SaveDecision queues rec's decision state for writing while this instance
// leads.
func (c *Cluster) SaveDecision(rec failover.RecordID, state []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.leading {
		return
	}
	if stored, ok := c.v.decisions[rec]; ok && string(stored.value) == string(state) {
		delete(c.saves, rec)
		return
	}
	c.saves[rec] = slices.Clone(state)
	signal(c.flush)
}

// Decision returns the decision state of rec: the one queued by this
// leader, or else the one etcd holds.
func (c *Cluster) Decision(rec failover.RecordID) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.saves[rec]; ok {
		return slices.Clone(s), true
	}
	d, ok := c.v.decisions[rec]
	return slices.Clone(d.value), ok
}

// Overrides returns the overrides in force now.
func (c *Cluster) Overrides() []failover.OverrideState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v.overridesAt(time.Now())
}

// TakeFailback reports and consumes a failback request for rec while this
// instance leads.
func (c *Cluster) TakeFailback(rec failover.RecordID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	rev, ok := c.v.failbacks[rec]
	if !ok || !c.leading {
		return false
	}
	delete(c.v.failbacks, rec)
	c.takes[rec] = rev
	signal(c.flush)
	return true
}

// SetOverride stores an override in etcd, waiting until it is stored.
func (c *Cluster) SetOverride(ctx context.Context, id failover.EndpointID, o failover.Override, until time.Time) error {
	key := c.prefix + overridesDir + endpointPath(id)
	var err error
	if o == failover.NoOverride {
		_, err = c.cli.Delete(ctx, key)
	} else {
		_, err = c.cli.Put(ctx, key, encodeOverride(o, until))
	}
	if err != nil {
		return fmt.Errorf("etcd cluster: storing override %v of %s endpoint %q: %w", o, id.Record, id.Value, err)
	}
	return nil
}

// RequestFailback stores a failback request in etcd, waiting until it is
// stored.
func (c *Cluster) RequestFailback(ctx context.Context, rec failover.RecordID) error {
	if _, err := c.cli.Put(ctx, c.prefix+failbacksDir+recordPath(rec), time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("etcd cluster: storing failback request of %s: %w", rec, err)
	}
	return nil
}
