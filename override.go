package failover

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Override is an operator's decision about an endpoint that wins over its
// checks until it expires or is cleared.
type Override int

const (
	// NoOverride: the checks decide.
	NoOverride Override = iota
	// ForceUp treats the endpoint as healthy whatever its checks say.
	ForceUp
	// ForceDown treats the endpoint as unhealthy (drains it): it is taken
	// out of DNS as if it had failed.
	ForceDown
)

var overrideNames = [...]string{"none", "force-up", "force-down"}

// String returns "none", "force-up" or "force-down".
func (o Override) String() string {
	if o < 0 || int(o) >= len(overrideNames) {
		return fmt.Sprintf("Override(%d)", int(o))
	}
	return overrideNames[o]
}

// MarshalText encodes o as its String form.
func (o Override) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText decodes the String form.
func (o *Override) UnmarshalText(b []byte) error {
	return unmarshalName(b, overrideNames[:], (*int)(o), "override")
}

// Errors returned by the Manager's operator methods.
var (
	ErrUnknownRecord   = errors.New("failover: unknown record")
	ErrUnknownEndpoint = errors.New("failover: unknown endpoint")
	// ErrClusterStore is wrapped by the error of an operator call that the
	// Cluster's store could not take in time (it cannot be reached, or
	// has no quorum): nothing was changed; the call may be retried.
	ErrClusterStore = errors.New("failover: the cluster's store did not take it")
)

// SetOverride forces the endpoint whose value is value, in record rec, up
// or down for d (zero: until cleared), or clears its override with
// NoOverride. It takes effect at once if Run is running, otherwise when it
// starts. It is safe for concurrent use.
//
// With a Cluster, the override is stored in the cluster, for every
// instance (the leader applies it, and ends it when it expires): SetOverride
// waits until the cluster's store has it, at most ProviderTimeout, and
// returns an error naming the record and endpoint when it could not be
// stored (wrapping ErrClusterStore). It takes effect when the cluster
// reports it, also on this instance.
func (m *Manager) SetOverride(rec RecordID, value string, o Override, d time.Duration) error {
	if o < NoOverride || o > ForceDown {
		return fmt.Errorf("failover: record %s endpoint %q: unknown override %d", rec, value, int(o))
	}
	if d < 0 {
		return fmt.Errorf("failover: record %s endpoint %q: negative override duration %v", rec, value, d)
	}
	r, err := m.record(rec)
	if err != nil {
		return err
	}
	norm, err := normalizeValue(r.spec.id.Type, value)
	if err != nil {
		return fmt.Errorf("%w: record %s endpoint %q: %v", ErrUnknownEndpoint, rec, value, err)
	}
	var ep *endpointRun
	for _, e := range r.eps {
		if e.ep.Value == norm {
			ep = e
		}
	}
	if ep == nil {
		return fmt.Errorf("%w: record %s has no endpoint %q", ErrUnknownEndpoint, rec, value)
	}
	now := time.Now()
	var until time.Time
	if d > 0 && o != NoOverride {
		until = now.Add(d)
	}
	if m.cl != nil {
		return m.setClusterOverride(ep, o, until, now)
	}
	m.mu.Lock()
	prev, prevUntil := ep.override, ep.overrideUntil
	ep.override, ep.overrideUntil = o, until
	m.mu.Unlock()
	m.reportOverride(ep, o, until, prev, prevUntil, now)
	m.poke(r)
	return nil
}

// reportOverride reports an operator's override of ep, set to o until
// until where prev until prevUntil was: override-set, or override-ended
// when it was cleared (nothing when there was none).
func (m *Manager) reportOverride(ep *endpointRun, o Override, until time.Time, prev Override, prevUntil, now time.Time) {
	e := Event{Kind: EventOverrideSet, Time: now, Record: ep.rec.spec.id, Endpoint: ep.ep.Value, Override: o, OverrideUntil: until, Reason: "set by operator"}
	if o == NoOverride {
		if prev == NoOverride {
			return
		}
		e.Kind, e.Override, e.OverrideUntil, e.Reason = EventOverrideEnded, prev, prevUntil, "cleared by operator"
	}
	m.emit(e)
}

// Failback asks record rec to return to its most preferred healthy tier now,
// without waiting for FailbackDelay; it is how a record whose policy sets
// ManualFailback fails back. The request is taken at the next decision and
// dropped if no more preferred tier is healthy then. It is safe for
// concurrent use.
//
// With a Cluster, the request is stored in the cluster for the leader to
// take: Failback waits until the cluster's store has it, at most
// ProviderTimeout, and returns an error naming the record when it could
// not be stored (wrapping ErrClusterStore).
func (m *Manager) Failback(rec RecordID) error {
	r, err := m.record(rec)
	if err != nil {
		return err
	}
	if m.cl != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.cfg.ProviderTimeout)
		defer cancel()
		if err := m.cl.c.RequestFailback(ctx, r.spec.id); err != nil {
			return fmt.Errorf("%w: record %s: storing the failback request: %w", ErrClusterStore, r.spec.id, err)
		}
		return nil
	}
	m.mu.Lock()
	r.failbackRequested = true
	m.mu.Unlock()
	m.poke(r)
	return nil
}

// record finds a record by its ID, comparing names without regard to case.
func (m *Manager) record(id RecordID) (*recordRun, error) {
	key := RecordID{Zone: strings.ToLower(id.Zone), Name: strings.ToLower(id.Name), Type: strings.ToUpper(id.Type)}
	if r, ok := m.byID[key]; ok {
		return r, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnknownRecord, id)
}

// poke asks the running loop to decide r again.
func (m *Manager) poke(r *recordRun) {
	m.mu.Lock()
	m.poked = append(m.poked, r)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// setClusterOverride stores an operator's override of ep in the Cluster,
// and reports it.
func (m *Manager) setClusterOverride(ep *endpointRun, o Override, until, now time.Time) error {
	id := ep.rec.spec.id
	m.mu.Lock()
	prev, prevUntil := ep.override, ep.overrideUntil // as the cluster last said
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.ProviderTimeout)
	defer cancel()
	if err := m.cl.c.SetOverride(ctx, EndpointID{Record: id, Value: ep.ep.Value}, o, until); err != nil {
		return fmt.Errorf("%w: record %s endpoint %q: storing override %v: %w", ErrClusterStore, id, ep.ep.Value, o, err)
	}
	m.reportOverride(ep, o, until, prev, prevUntil, now)
	return nil
}
