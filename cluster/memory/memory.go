// Package memory implements [failover.Cluster] in memory, for tests: a
// Store stands for etcd, and each Instance for one Manager's membership of
// it, with leases that expire on the clock, so that engine tests can run
// several Managers under testing/synctest, crash or cut one off, and watch
// another take over at an exact time.
//
// Where the engine can tell, an Instance behaves as cluster/etcd's does:
//   - An instance's lease is renewed every third of the TTL (checked every
//     tenth); it expires for the instance and the store at the same
//     instant, the last renewal plus the TTL. Lead's context ends at that
//     expiry at the latest: the instance's Run ends the leadership on the
//     tick that falls on it (etcd's has the expiry as its deadline).
//   - Changed signals an instance about the others' verdicts, never about
//     its own (etcd's watch skips the instance's own verdict keys).
//   - An instance cut off (Cut) hears nothing more, as a broken watch
//     does: until its lease expires it still counts itself connected and
//     sees the votes, instances and leader as they were when it was cut.
//   - When its lease expires it learns so (Changed, with Everything, and
//     Leadership if it led), as etcd's ended session tells it: Status says
//     it is not connected, and Votes returns its own verdict alone.
//   - Healed before its lease expired, it is told Everything (etcd's
//     watch replays each change it missed; Everything covers them); after
//     the expiry, it joins with a new lease, its verdicts are published
//     again, and it is told Everything.
//   - Run's end, like etcd's, gives the lease back at once and tells the
//     instance Everything (and Leadership if it led).
//
// Not modelled: a verdict published, or a decision state saved, while the
// instance is cut off is not sent once it is healed within the same lease
// (etcd's flusher retries it); it is sent with the next lease.
package memory

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/clusterchanges"
)

// Store is the shared state of one cluster. Create it with NewStore; it is
// safe for concurrent use.
type Store struct {
	ttl time.Duration

	mu        sync.Mutex
	term      int64
	live      map[string]*member // by instance name
	decisions map[failover.RecordID][]byte
	overrides map[failover.EndpointID]failover.OverrideState
	failbacks map[failover.RecordID]bool
	writes    int // writes a real store would make
}

// member is an instance as the store knows it.
type member struct {
	in       *Instance
	term     int64     // when it joined: the oldest member leads
	expires  time.Time // store side
	verdicts map[failover.EndpointID]failover.Health
}

// NewStore returns an empty store whose leases live for ttl.
func NewStore(ttl time.Duration) *Store {
	return &Store{ttl: ttl, live: map[string]*member{}, decisions: map[failover.RecordID][]byte{},
		overrides: map[failover.EndpointID]failover.OverrideState{}, failbacks: map[failover.RecordID]bool{}}
}

// Writes returns how many writes the store took (verdicts, decision states,
// operator state): what etcd would have committed. Lease renewals are not
// counted.
func (s *Store) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// Instance returns a new instance of the cluster named name.
func (s *Store) Instance(name string) *Instance {
	return &Instance{s: s, name: name, changed: make(chan struct{}, 1), own: map[failover.EndpointID]failover.Health{},
		err: "not started"}
}

// expireLocked removes the members whose lease expired by now.
func (s *Store) expireLocked(now time.Time) {
	for name, m := range s.live {
		if !now.Before(m.expires) {
			delete(s.live, name)
			s.broadcastLocked(nil, func(in *Instance) { in.changes.Everything = true })
		}
	}
}

// leaderLocked returns the oldest live member.
func (s *Store) leaderLocked() *member {
	var best *member
	for _, m := range s.live {
		if best == nil || m.term < best.term {
			best = m
		}
	}
	return best
}

// broadcastLocked tells every live instance but skip of a change, as each
// one's watch would: an instance cut off hears nothing.
func (s *Store) broadcastLocked(skip *Instance, note func(*Instance)) {
	for _, m := range s.live {
		if m.in == skip {
			continue
		}
		m.in.mu.Lock()
		if !m.in.cut {
			note(m.in)
			m.in.signalLocked()
		}
		m.in.mu.Unlock()
	}
}

// Instance is one instance's membership of a Store.
type Instance struct {
	s    *Store
	name string

	changed   chan struct{}
	mu        sync.Mutex
	own       map[failover.EndpointID]failover.Health
	cut       bool
	frozen    *snapshot // what a cut-off instance saw when it was cut
	connected bool      // instance side: holds a lease not yet expired
	expires   time.Time // instance side: as last renewed
	leadCtx   context.Context
	endLead   context.CancelFunc
	term      int64
	err       string

	changes clusterchanges.Pending // for TakeChanges
}

var _ failover.Cluster = (*Instance)(nil)

// snapshot is the cluster as an instance saw it when it was cut off.
type snapshot struct {
	instances []string // sorted
	leader    string
	verdicts  map[string]map[failover.EndpointID]failover.Health
}

// Cut makes the store unreachable for the instance, as a partition would
// (cut true), or reachable again. Cut off, the instance hears nothing and
// sees the cluster as it was until its lease expires; reachable again
// before then, it is told Everything.
func (in *Instance) Cut(cut bool) {
	s := in.s
	s.mu.Lock()
	defer s.mu.Unlock()
	in.mu.Lock()
	defer in.mu.Unlock()
	if cut == in.cut {
		return
	}
	in.cut, in.frozen = cut, nil
	switch {
	case !in.connected:
	case cut:
		in.frozen = &snapshot{verdicts: map[string]map[failover.EndpointID]failover.Health{}}
		for name, m := range s.live {
			in.frozen.instances = append(in.frozen.instances, name)
			in.frozen.verdicts[name] = maps.Clone(m.verdicts)
		}
		slices.Sort(in.frozen.instances)
		if l := s.leaderLocked(); l != nil {
			in.frozen.leader = l.in.name
		}
	default:
		in.changes.Everything = true
		in.signalLocked()
	}
}

// signalLocked wakes the loop; in.mu is held.
func (in *Instance) signalLocked() {
	select {
	case in.changed <- struct{}{}:
	default:
	}
}

// Instance returns the instance's name.
func (in *Instance) Instance() string { return in.name }

// LeaseTTL returns the store's lease TTL.
func (in *Instance) LeaseTTL() time.Duration { return in.s.ttl }

// Run renews the instance's lease every third of the TTL until ctx ends,
// then leaves the store at once.
func (in *Instance) Run(ctx context.Context) error {
	s := in.s
	tick := time.NewTicker(s.ttl / 10)
	defer tick.Stop()
	var renewed time.Time
	for {
		now := time.Now()
		in.mu.Lock()
		cut := in.cut
		in.mu.Unlock()
		s.mu.Lock()
		s.expireLocked(now)
		if !cut && now.Sub(renewed) >= s.ttl/3 {
			m, ok := s.live[in.name]
			if !ok {
				s.term++
				m = &member{in: in, term: s.term, verdicts: map[failover.EndpointID]failover.Health{}}
				s.live[in.name] = m
				in.mu.Lock()
				for id, h := range in.own { // a new lease: publish every verdict again
					m.verdicts[id] = h
					s.writes++
				}
				in.mu.Unlock()
				s.broadcastLocked(nil, func(o *Instance) { o.changes.Everything = true })
			}
			m.expires, renewed = now.Add(s.ttl), now
			in.mu.Lock()
			in.expires, in.err, in.connected = now.Add(s.ttl), "", true
			in.mu.Unlock()
		}
		leader := s.leaderLocked()
		leads := leader != nil && leader.in == in // cut off, until its lease expires
		term := int64(0)
		if leads {
			term = leader.term
		}
		s.mu.Unlock()
		in.updateLeadership(leads, term, now)
		select {
		case <-ctx.Done():
			s.mu.Lock()
			delete(s.live, in.name)
			s.broadcastLocked(nil, func(o *Instance) { o.changes.Everything = true })
			s.mu.Unlock()
			in.mu.Lock()
			if in.connected {
				in.connected, in.frozen, in.err = false, nil, "stopped"
				in.changes.Everything = true
				in.signalLocked()
			}
			in.mu.Unlock()
			in.updateLeadership(false, 0, now)
			return nil
		case <-tick.C:
		}
	}
}

// updateLeadership opens or closes the instance's term.
func (in *Instance) updateLeadership(leads bool, term int64, now time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.connected && !now.Before(in.expires) {
		in.connected, in.frozen, in.err = false, nil, "lease expired"
		in.changes.Everything = true
		in.signalLocked()
	}
	if !in.connected {
		leads = false
	}
	if leads == (in.leadCtx != nil) && (!leads || in.term == term) {
		return // no change
	}
	if in.endLead != nil {
		in.endLead()
		in.leadCtx, in.endLead = nil, nil
	}
	if leads {
		in.leadCtx, in.endLead = context.WithCancel(context.Background())
		in.term = term
	}
	in.changes.Leadership = true
	in.signalLocked()
}

// PublishVerdict stores the instance's verdict when it changed.
func (in *Instance) PublishVerdict(id failover.EndpointID, h failover.Health) {
	in.mu.Lock()
	if in.own[id] == h {
		in.mu.Unlock()
		return
	}
	if h == failover.HealthUnknown {
		delete(in.own, id)
	} else {
		in.own[id] = h
	}
	cut := in.cut
	in.mu.Unlock()
	if cut {
		return // published again with the next lease
	}
	s := in.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.live[in.name]; ok {
		m.verdicts[id] = h
		s.writes++
		s.broadcastLocked(in, func(o *Instance) { o.changes.Endpoint(id) })
	}
}

// Votes returns the verdict of every live instance on id: as last seen,
// while the instance is cut off; its own alone once its lease expired.
func (in *Instance) Votes(id failover.EndpointID) []failover.Vote {
	in.mu.Lock()
	own, connected, frozen := in.own[id], in.connected, in.frozen
	in.mu.Unlock()
	if !connected {
		return []failover.Vote{{Instance: in.name, Health: own}}
	}
	verdicts := func(name string) failover.Health { return frozen.verdicts[name][id] }
	var names []string
	if frozen != nil {
		names = frozen.instances
	} else {
		s := in.s
		s.mu.Lock()
		defer s.mu.Unlock()
		for name := range s.live {
			names = append(names, name)
		}
		verdicts = func(name string) failover.Health { return s.live[name].verdicts[id] }
	}
	out := []failover.Vote{{Instance: in.name, Health: own}}
	for _, name := range names {
		if name != in.name {
			out = append(out, failover.Vote{Instance: name, Health: verdicts(name)})
		}
	}
	slices.SortFunc(out, func(a, b failover.Vote) int { return strings.Compare(a.Instance, b.Instance) })
	return out
}

// Lead is the write gate; see failover.Cluster.
func (in *Instance) Lead(need time.Duration) (context.Context, int64, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.leadCtx == nil || time.Until(in.expires) <= need {
		return nil, 0, false
	}
	return in.leadCtx, in.term, true
}

// leading reports whether the instance leads and reaches the store.
func (in *Instance) leading() bool {
	_, _, ok := in.Lead(0)
	in.mu.Lock()
	defer in.mu.Unlock()
	return ok && !in.cut
}

// SaveDecision stores rec's state while the instance leads.
func (in *Instance) SaveDecision(rec failover.RecordID, state []byte) {
	if !in.leading() {
		return
	}
	s := in.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.decisions[rec]; !ok || string(old) != string(state) {
		s.decisions[rec] = slices.Clone(state)
		s.writes++
	}
}

// Decision returns rec's stored decision state.
func (in *Instance) Decision(rec failover.RecordID) ([]byte, bool) {
	s := in.s
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.decisions[rec]
	return slices.Clone(d), ok
}

var errCut = errors.New("memory cluster: store unreachable")

func (in *Instance) isCut() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.cut
}

// SetOverride stores an override for every instance.
func (in *Instance) SetOverride(ctx context.Context, id failover.EndpointID, o failover.Override, until time.Time) error {
	if in.isCut() {
		return errCut
	}
	s := in.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if o == failover.NoOverride {
		delete(s.overrides, id)
	} else {
		s.overrides[id] = failover.OverrideState{Endpoint: id, Override: o, Until: until}
	}
	s.writes++
	s.broadcastLocked(nil, func(o *Instance) { o.changes.Record(id.Record) })
	return nil
}

// Overrides returns the overrides in force now, sorted by endpoint.
func (in *Instance) Overrides() []failover.OverrideState {
	s := in.s
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	var out []failover.OverrideState
	for id, o := range s.overrides {
		if o.Until.IsZero() || now.Before(o.Until) {
			out = append(out, o)
		} else if l := s.leaderLocked(); l != nil && l.in == in {
			delete(s.overrides, id) // the leader removes what expired
			s.writes++
		}
	}
	slices.SortFunc(out, func(a, b failover.OverrideState) int {
		return strings.Compare(a.Endpoint.Record.String()+" "+a.Endpoint.Value, b.Endpoint.Record.String()+" "+b.Endpoint.Value)
	})
	return out
}

// RequestFailback stores a failback request for the leader.
func (in *Instance) RequestFailback(ctx context.Context, rec failover.RecordID) error {
	if in.isCut() {
		return errCut
	}
	s := in.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failbacks[rec] = true
	s.writes++
	s.broadcastLocked(nil, func(o *Instance) { o.changes.Record(rec) })
	return nil
}

// TakeFailback takes a failback request while the instance leads.
func (in *Instance) TakeFailback(rec failover.RecordID) bool {
	if !in.leading() {
		return false
	}
	s := in.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.failbacks[rec] {
		return false
	}
	delete(s.failbacks, rec)
	s.writes++
	return true
}

// Changed returns the channel that signals waiting changes.
func (in *Instance) Changed() <-chan struct{} { return in.changed }

// TakeChanges returns what changed since the last call.
func (in *Instance) TakeChanges() failover.ClusterChanges {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.changes.Take()
}

// Status returns the instance's view of the cluster: as last seen, while
// the instance is cut off.
func (in *Instance) Status() failover.ClusterStatus {
	in.mu.Lock()
	st := failover.ClusterStatus{Instance: in.name, Leading: in.leadCtx != nil, Err: in.err, Connected: in.connected}
	frozen := in.frozen
	if in.connected {
		st.LeaseLeft = max(time.Until(in.expires), 0)
	}
	in.mu.Unlock()
	switch {
	case !st.Connected:
	case frozen != nil:
		st.Instances, st.Leader = slices.Clone(frozen.instances), frozen.leader
	default:
		s := in.s
		s.mu.Lock()
		defer s.mu.Unlock()
		for name := range s.live {
			st.Instances = append(st.Instances, name)
		}
		slices.Sort(st.Instances)
		if l := s.leaderLocked(); l != nil {
			st.Leader = l.in.name
		}
	}
	return st
}
