package etcd

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/dnsfailover/failover"
)

// view is what an instance knows of the cluster's keys, kept by its watch.
type view struct {
	self      string
	instances map[string]bool
	election  map[string]candidate // by key
	verdicts  map[failover.EndpointID]map[string]failover.Health
	decisions map[failover.RecordID]stored
	overrides map[failover.EndpointID]storedOverride
	failbacks map[failover.RecordID]int64 // request's mod revision
}

type candidate struct {
	name string
	rev  int64 // create revision: the lowest leads
}

type stored struct {
	value []byte
	rev   int64 // mod revision
}

type storedOverride struct {
	state failover.OverrideState
	rev   int64
}

func newView(self string) view {
	return view{
		self:      self,
		instances: map[string]bool{},
		election:  map[string]candidate{},
		verdicts:  map[failover.EndpointID]map[string]failover.Health{},
		decisions: map[failover.RecordID]stored{},
		overrides: map[failover.EndpointID]storedOverride{},
		failbacks: map[failover.RecordID]int64{},
	}
}

// change is what applying one key changed, for the loop.
type change struct {
	everything bool
	endpoint   *failover.EndpointID
	record     *failover.RecordID
}

// apply applies one key (rel: relative to the prefix) as put with value at
// revisions rev (mod) and create, or deleted.
func (v *view) apply(rel string, value []byte, rev, create int64, deleted bool) change {
	dir, rest, _ := strings.Cut(rel, "/")
	dir += "/"
	switch dir {
	case instancesDir:
		name, ok := parseInstance(rest)
		if !ok {
			return change{}
		}
		if deleted {
			delete(v.instances, name)
		} else {
			v.instances[name] = true
		}
		return change{everything: true}
	case electionDir:
		if deleted {
			delete(v.election, rel)
		} else {
			v.election[rel] = candidate{name: string(value), rev: create}
		}
	case verdictsDir:
		escaped, ep, _ := strings.Cut(rest, "/")
		inst, ok := parseInstance(escaped)
		id, ok2 := parseEndpoint(ep)
		if !ok || !ok2 || inst == v.self {
			return change{}
		}
		var h failover.Health
		if deleted || h.UnmarshalText(value) != nil {
			delete(v.verdicts[id], inst)
		} else {
			if v.verdicts[id] == nil {
				v.verdicts[id] = map[string]failover.Health{}
			}
			v.verdicts[id][inst] = h
		}
		return change{endpoint: &id}
	case decisionsDir:
		id, ok := parseRecord(rest)
		if !ok {
			return change{}
		}
		if deleted {
			delete(v.decisions, id)
		} else if rev > v.decisions[id].rev {
			v.decisions[id] = stored{value: value, rev: rev}
		}
	case overridesDir:
		id, ok := parseEndpoint(rest)
		if !ok {
			return change{}
		}
		state, err := decodeOverride(id, value)
		if deleted || err != nil {
			delete(v.overrides, id)
		} else {
			v.overrides[id] = storedOverride{state: state, rev: rev}
		}
		return change{record: &id.Record}
	case failbacksDir:
		id, ok := parseRecord(rest)
		if !ok {
			return change{}
		}
		if deleted {
			delete(v.failbacks, id)
		} else {
			v.failbacks[id] = rev
		}
		return change{record: &id}
	}
	return change{}
}

// instanceNames returns the live instances, sorted.
func (v *view) instanceNames() []string {
	var out []string
	for n := range v.instances {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// leader returns the name of the instance whose election key is oldest.
func (v *view) leader() string {
	var best candidate
	for _, c := range v.election {
		if best.rev == 0 || c.rev < best.rev {
			best = c
		}
	}
	return best.name
}

// overridesAt returns the overrides in force at now, sorted by endpoint.
func (v *view) overridesAt(now time.Time) []failover.OverrideState {
	var out []failover.OverrideState
	for _, o := range v.overrides {
		if o.state.Until.IsZero() || now.Before(o.state.Until) {
			out = append(out, o.state)
		}
	}
	slices.SortFunc(out, func(a, b failover.OverrideState) int {
		return strings.Compare(endpointPath(a.Endpoint), endpointPath(b.Endpoint))
	})
	return out
}

type overrideJSON struct {
	Override failover.Override `json:"override"`
	Until    time.Time         `json:"until,omitzero"`
}

func encodeOverride(o failover.Override, until time.Time) string {
	b, _ := json.Marshal(overrideJSON{o, until.UTC()})
	return string(b)
}

func decodeOverride(id failover.EndpointID, b []byte) (failover.OverrideState, error) {
	var o overrideJSON
	err := json.Unmarshal(b, &o)
	return failover.OverrideState{Endpoint: id, Override: o.Override, Until: o.Until}, err
}
