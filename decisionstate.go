package failover

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// decisionStateVersion is the version of the encoding of a decision kept
// in a [Cluster] (see encodeDecision). A leader that reads a version it
// does not know starts the record from DNS, as if nothing were stored.
const decisionStateVersion = 2

// decisionState is the encoding of the part of a decision that must
// outlive a leader: what the record publishes, its tier, since when each
// tier has been eligible (the failback delay), and the change times that
// set the TTL; with the record's endpoints, so that a leader whose
// configuration renumbered the tiers maps them (see tierMap). Times are in
// UTC, to the nanosecond.
//
// UnstableAt moves with every failing check of a published endpoint (see
// Policy.LowerTTLOnFailing): it is stored with the rest when the rest
// changes, never alone (see decisionKey), so that the store's write rate
// follows decisions, not checks. A new leader takes the later of it and
// its own (see seed).
type decisionState struct {
	Version       int                  `json:"v"`
	Endpoints     []storedEndpoint     `json:"endpoints"` // the record's, in configuration order
	Values        []string             `json:"values"`
	TTL           time.Duration        `json:"ttl"`
	HasTier       bool                 `json:"has_tier,omitempty"`
	Tier          int                  `json:"tier"`
	AllDown       bool                 `json:"all_down,omitempty"`
	Reason        string               `json:"reason,omitempty"`
	EligibleSince map[string]time.Time `json:"eligible_since,omitempty"` // priority in decimal: since when
	ChangedAt     time.Time            `json:"changed_at,omitzero"`
	ConvergedBy   time.Time            `json:"converged_by,omitzero"`
	UnstableAt    time.Time            `json:"unstable_at,omitzero"`
}

// storedEndpoint is an endpoint in a decisionState.
type storedEndpoint struct {
	Value    string `json:"value"`
	Priority int    `json:"priority"`
}

// encodeDecision encodes d, a decided decision of a record whose endpoints
// are eps, for Cluster.SaveDecision. Equal decisions encode to equal
// bytes.
func encodeDecision(d decision, eps []Endpoint) []byte {
	s := decisionState{Version: decisionStateVersion, Values: d.values, TTL: d.ttl, HasTier: d.hasTier, Tier: d.tier, AllDown: d.allDown, Reason: d.reason,
		ChangedAt: d.changedAt.UTC(), ConvergedBy: d.convergedBy.UTC(), UnstableAt: d.unstableAt.UTC()}
	if s.Values == nil {
		s.Values = []string{}
	}
	for _, e := range eps {
		s.Endpoints = append(s.Endpoints, storedEndpoint(e))
	}
	if len(d.eligibleSince) > 0 {
		s.EligibleSince = make(map[string]time.Time, len(d.eligibleSince))
		for p, t := range d.eligibleSince {
			s.EligibleSince[strconv.Itoa(p)] = t.UTC()
		}
	}
	b, err := json.Marshal(s) // maps are written sorted by key
	if err != nil {
		panic(fmt.Sprintf("failover: encoding a decision: %v", err)) // only plain values: cannot fail
	}
	return b
}

// decisionKey is what decides whether d is stored again: its encoding
// without the time it was last unstable.
func decisionKey(d decision, eps []Endpoint) []byte {
	d.unstableAt = time.Time{}
	return encodeDecision(d, eps)
}

// decodeDecision decodes what encodeDecision wrote into a decided
// decision of a record whose endpoints are now eps: its tier and failback
// timers follow their endpoints as CarryOver's do (see tierMap), those
// that cannot be mapped are dropped. It fails on another version, or on
// anything else.
func decodeDecision(b []byte, eps []Endpoint) (decision, error) {
	var s decisionState
	if err := json.Unmarshal(b, &s); err != nil {
		return decision{}, fmt.Errorf("decoding a stored decision: %w", err)
	}
	if s.Version != decisionStateVersion {
		return decision{}, fmt.Errorf("stored decision has version %d, want %d", s.Version, decisionStateVersion)
	}
	d := decision{decided: true, values: slices.Clone(s.Values), ttl: s.TTL, hasTier: s.HasTier, tier: s.Tier, allDown: s.AllDown, reason: s.Reason,
		changedAt: s.ChangedAt, convergedBy: s.ConvergedBy, unstableAt: s.UnstableAt, eligibleSince: map[int]time.Time{}}
	for _, k := range slices.Sorted(maps.Keys(s.EligibleSince)) {
		p, err := strconv.Atoi(k)
		if err != nil {
			return decision{}, fmt.Errorf("stored decision: eligible_since priority %q is not a number", k)
		}
		d.eligibleSince[p] = s.EligibleSince[k]
	}
	if d.values == nil {
		d.values = []string{}
	}
	old := make([]Endpoint, len(s.Endpoints))
	for i, e := range s.Endpoints {
		old[i] = Endpoint(e)
	}
	return renumbered(d, tierMap(old, eps)), nil
}
