package failover

import (
	"slices"
	"time"
)

// Status is a snapshot of everything the Manager knows, safe to keep and to
// marshal as JSON. In JSON, durations are Go duration strings ("1m0s") and
// zero times are left out; the JSON reads back into the same Status.
type Status struct {
	DryRun bool        `json:"dry_run"`
	Checks CheckStatus `json:"checks"`
	Events EventStatus `json:"events"`
	// Cluster is this instance's view of its Cluster; nil without one.
	Cluster *ClusterView `json:"cluster,omitempty"`
	Zones   []ZoneStatus `json:"zones"`
}

// ClusterView is an instance's view of its [Cluster], in a [Status]: as
// the Cluster reports it, with the isolated instances the Manager found.
// While this instance does not lead, its records show what it would
// decide, for information: the leader's decisions are what DNS holds.
type ClusterView struct {
	ClusterStatus
	// Isolated lists the live instances whose verdicts differ from the
	// cluster's on most endpoints: their votes are left out of every
	// quorum (see EventInstanceIsolated).
	Isolated []string `json:"isolated,omitempty"`
	// SelfIsolated is true while this instance is one of them.
	SelfIsolated bool `json:"self_isolated"`
}

// EventStatus says whether OnEvent keeps up with the events.
type EventStatus struct {
	// Buffer is Config.EventBuffer (after defaults).
	Buffer int `json:"buffer"`
	// Queued counts the events waiting for OnEvent now.
	Queued int `json:"queued"`
	// Dropped counts the events dropped since the Manager was created,
	// because Buffer events were waiting.
	Dropped uint64 `json:"dropped"`
}

// CheckStatus says how busy the checks are, and whether Config.MaxChecks
// holds them back: a check due while MaxChecks others run waits for a
// slot (its Timeout starts when it starts, so the wait does not fail it).
// Slots are given in the order checks became due.
type CheckStatus struct {
	// MaxChecks is Config.MaxChecks (after defaults).
	MaxChecks int `json:"max_checks"`
	// Running counts the checks running now, holding a slot.
	Running int `json:"running"`
	// Waiting counts the checks due that wait for a slot now. Above zero,
	// the checks are saturated: they run later than scheduled.
	Waiting int `json:"waiting"`
	// Delayed counts the checks that had to wait for a slot since Run
	// started.
	Delayed uint64 `json:"delayed"`
	// LongestWait is the longest wait of a check for a slot since Run
	// started.
	LongestWait time.Duration `json:"longest_wait"`
}

// ZoneStatus is one zone in a [Status].
type ZoneStatus struct {
	Name      string           `json:"name"`
	Providers []ProviderStatus `json:"providers"`
	Records   []RecordStatus   `json:"records"`
}

// ProviderStatus says whether one provider of a zone holds every decision.
// With a Cluster, only the leader calls the providers: a follower's
// ProviderStatus is as it last left it (zero if it never led).
type ProviderStatus struct {
	Name string `json:"name"`
	// InSync is true when the provider held every decided record at the
	// last look. A provider that could not be read is not in sync.
	InSync bool `json:"in_sync"`
	// Pending lists the records the provider does not hold yet, as "name
	// type", such as "www.example.com. A".
	Pending     []string  `json:"pending,omitempty"`
	LastRead    time.Time `json:"last_read,omitzero"`
	LastWrite   time.Time `json:"last_write,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// Failures counts failed calls in a row; zero after a success.
	Failures int `json:"failures"`
	// Quarantined lists the records whose RRset the provider keeps
	// rejecting (see EventRecordQuarantined): they are retried alone,
	// with backoff, and no longer hold back the rest of the zone. They
	// are also in Pending.
	Quarantined []QuarantinedRecord `json:"quarantined,omitempty"`
	// Abandoned counts the calls to the provider for the zone that did not
	// return within ProviderTimeout (they ignore their context), were
	// reported failed with ErrCallAbandoned, and are still running. While
	// MaxAbandonedCalls are, no other call is made: each attempt fails at
	// once.
	Abandoned int `json:"abandoned"`
	// LearnedMinTTL is the TTL floor the provider was found to apply
	// without declaring it (see EventTTLFloorLearned); zero if none.
	LearnedMinTTL time.Duration `json:"learned_min_ttl"`
}

// QuarantinedRecord is a record a provider keeps rejecting, in a
// [ProviderStatus].
type QuarantinedRecord struct {
	// Record is "name type", such as "www.example.com. A".
	Record string `json:"record"`
	// Error is the provider's last error for the record alone.
	Error string `json:"error"`
	// Since is when the record was quarantined.
	Since time.Time `json:"since"`
	// Failures counts its failed writes in a row.
	Failures int `json:"failures"`
	// RetryAt is when it is written again.
	RetryAt time.Time `json:"retry_at"`
}

// RecordStatus is one record in a [Status].
type RecordStatus struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Decided is false until every endpoint has been checked enough to be
	// known; until then the record keeps what DNS held (Published).
	Decided   bool     `json:"decided"`
	Published []string `json:"published"`
	// TTL is the TTL Published is served with: the decided TTL raised to
	// the highest TTL floor among the zone's providers (declared with
	// MinTTLProvider, or learned).
	TTL time.Duration `json:"ttl"`
	// Priority is the active tier, meaningful unless AllDown.
	Priority int    `json:"priority"`
	AllDown  bool   `json:"all_down"`
	Reason   string `json:"reason,omitempty"`
	// ChangedAt is when Published last changed.
	ChangedAt time.Time `json:"changed_at,omitzero"`
	// ConvergedBy is when every resolver must have seen Published: the
	// change time plus the TTL served before it (raised to the floor, as
	// TTL) (or later, when an
	// earlier change had not converged yet). A provider still Pending the
	// record delays it further.
	ConvergedBy time.Time `json:"converged_by,omitzero"`
	// FailbackRequested is true while a Failback call waits for the
	// record's next decision (see Manager.Failback).
	FailbackRequested bool             `json:"failback_requested,omitempty"`
	Endpoints         []EndpointStatus `json:"endpoints"`
}

// EndpointStatus is one endpoint of a record in a [Status].
type EndpointStatus struct {
	Value                string        `json:"value"`
	Priority             int           `json:"priority"`
	Health               Health        `json:"health"`
	Since                time.Time     `json:"since,omitzero"`
	Published            bool          `json:"published"`
	ConsecutiveFailures  int           `json:"consecutive_failures"`
	ConsecutiveSuccesses int           `json:"consecutive_successes"`
	LastCheck            time.Time     `json:"last_check,omitzero"`
	LastLatency          time.Duration `json:"last_latency"`
	LastError            string        `json:"last_error,omitempty"`
	Override             Override      `json:"override"`
	OverrideUntil        time.Time     `json:"override_until,omitzero"`
	// Watched is true while a Watcher holds a connection or stream to the
	// endpoint (see Watcher).
	Watched bool `json:"watched"`
	// SuspectedSince is when a watcher's notice made the endpoint suspect,
	// while the confirming checks run; zero otherwise.
	SuspectedSince time.Time `json:"suspected_since,omitzero"`
	// ClusterHealth is, with a Cluster, the endpoint's health as the
	// Quorum of the live instances' Votes (the isolated ones left out)
	// says: what the record's decisions use. Health is this instance's own
	// verdict, one of the votes. It is unknown while this instance is not
	// connected to the Cluster (see ClusterStatus.Connected): its own vote
	// is not the cluster's.
	ClusterHealth Health `json:"cluster_health,omitzero"`
	// Votes is, with a Cluster, every live instance's verdict on the
	// endpoint, sorted by instance; while this instance is not connected,
	// as last read.
	Votes []Vote `json:"votes,omitempty"`
	// CertificateExpiry is when the certificate the endpoint presented to
	// the record's Checker in its last completed TLS handshake expires:
	// zero when the Checker does not report one (see the
	// CertificateExpiry method of Checker) or has completed no handshake
	// with the endpoint yet. It stays after a failed handshake, so an
	// expired certificate shows as a time in the past.
	CertificateExpiry time.Time `json:"certificate_expiry,omitzero"`
}

// Status returns a snapshot of every zone, record, endpoint and provider.
// It is safe for concurrent use, also from OnEvent, and before or after
// Run.
func (m *Manager) Status() Status {
	var cs ClusterStatus
	if m.cl != nil {
		cs = m.cl.c.Status()
	}
	st, probes := m.snapshot()
	if st.Cluster != nil {
		st.Cluster.ClusterStatus = cs
	}
	// Checkers are the caller's code: they are asked without the lock, so
	// that one that is slow or calls the Manager holds nothing up.
	for _, z := range st.Zones {
		for _, r := range z.Records {
			for i := range r.Endpoints {
				pr := probes[0]
				probes = probes[1:]
				if t, ok := certificateExpiry(pr.check, pr.target); ok {
					r.Endpoints[i].CertificateExpiry = t
				}
			}
		}
	}
	return st
}

// snapshot returns the Status taken under m.mu, and the probe of each of
// its endpoints, in their order in the Status.
func (m *Manager) snapshot() (Status, []*probeRun) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, z := range m.zones {
		for _, r := range z.records {
			n += len(r.eps)
		}
	}
	probes := make([]*probeRun, 0, n)
	st := Status{DryRun: m.cfg.DryRun, Checks: m.slots.status(), Events: m.events.status()}
	if m.cl != nil {
		st.Cluster = &ClusterView{Isolated: slices.Clone(m.cl.isolatedList), SelfIsolated: m.cl.selfIsolated}
	}
	for _, z := range m.zones {
		zs := ZoneStatus{Name: z.spec.name}
		for _, w := range z.syncs {
			ps := w.status
			ps.Pending, ps.Quarantined = slices.Clone(ps.Pending), slices.Clone(ps.Quarantined)
			zs.Providers = append(zs.Providers, ps)
		}
		for _, r := range z.records {
			d := r.dec
			rs := RecordStatus{
				Name: r.spec.id.Name, Type: r.spec.id.Type,
				Decided: d.decided, Published: slices.Clone(d.values), TTL: max(d.ttl, z.floor()),
				Priority: d.tier, AllDown: d.allDown, Reason: d.reason,
				ChangedAt: d.changedAt, ConvergedBy: d.convergedBy,
				FailbackRequested: r.failbackRequested,
			}
			for _, ep := range r.eps {
				pr := ep.probe
				probes = append(probes, pr)
				es := EndpointStatus{
					Value: ep.ep.Value, Priority: ep.ep.Priority,
					Health: pr.state.health, Since: pr.state.since,
					Published:            slices.Contains(d.values, ep.ep.Value),
					ConsecutiveFailures:  pr.state.failures,
					ConsecutiveSuccesses: pr.state.successes,
					LastCheck:            pr.lastCheck, LastLatency: pr.lastLatency,
					Override: ep.override, OverrideUntil: ep.overrideUntil,
					Watched: pr.watching, SuspectedSince: pr.suspected,
				}
				if m.cl != nil {
					es.ClusterHealth, es.Votes = ep.clusterHealth, slices.Clone(ep.votes)
				}
				if pr.lastErr != nil {
					es.LastError = pr.lastErr.Error()
				}
				rs.Endpoints = append(rs.Endpoints, es)
			}
			zs.Records = append(zs.Records, rs)
		}
		st.Zones = append(st.Zones, zs)
	}
	return st, probes
}
