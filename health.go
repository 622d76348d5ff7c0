package failover

import (
	"fmt"
	"time"
)

// Health is what the Manager believes of one endpoint of one record.
type Health int

const (
	// HealthUnknown: not enough checks have run yet to decide.
	HealthUnknown Health = iota
	// HealthUp: the endpoint passed RecoverAfter consecutive checks.
	HealthUp
	// HealthDown: the endpoint failed FailAfter consecutive checks (or,
	// while it was not known yet, FailAfter checks in all).
	HealthDown
)

var healthNames = [...]string{"unknown", "up", "down"}

// String returns "unknown", "up" or "down".
func (h Health) String() string {
	if h < 0 || int(h) >= len(healthNames) {
		return fmt.Sprintf("Health(%d)", int(h))
	}
	return healthNames[h]
}

// MarshalText encodes h as its String form.
func (h Health) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText decodes the String form, so that a Status read back from
// JSON holds the same values.
func (h *Health) UnmarshalText(b []byte) error {
	return unmarshalName(b, healthNames[:], (*int)(h), "health")
}

// unmarshalName sets *v to the index of b in names.
func unmarshalName(b []byte, names []string, v *int, what string) error {
	for i, n := range names {
		if n == string(b) {
			*v = i
			return nil
		}
	}
	return fmt.Errorf("failover: unknown %s %q", what, b)
}

// healthState is the per-endpoint state machine: a value, advanced by
// observe, with no timers inside.
type healthState struct {
	health    Health
	since     time.Time // when health last changed
	successes int       // consecutive successful checks
	failures  int       // consecutive failed checks
	tries     int       // failed checks while unknown, in a row or not
}

// observe returns the state after one check result (err nil means success)
// at now, and whether the health changed.
//
// The unknown phase is bounded: an endpoint not known yet is up after
// RecoverAfter successes in a row, and down after FailAfter failures,
// in a row or not, whichever comes first. An endpoint that alternates
// from start-up is therefore down after at most 2×FailAfter checks,
// instead of unknown forever (which would freeze its record's decision).
func (s healthState) observe(p Policy, now time.Time, err error) (healthState, bool) {
	if err == nil {
		s.successes++
		s.failures = 0
	} else {
		s.failures++
		s.successes = 0
		if s.health == HealthUnknown {
			s.tries++
		}
	}
	next := s.health
	switch {
	case s.health != HealthUp && s.successes >= p.RecoverAfter:
		next = HealthUp
	case s.health != HealthDown && s.failures >= p.FailAfter:
		next = HealthDown
	case s.health == HealthUnknown && s.tries >= p.FailAfter:
		next = HealthDown
	}
	if next == s.health {
		return s, false
	}
	s.health = next
	s.since = now
	return s, true
}

// settled reports whether the endpoint is not between states: it is
// checked at the normal interval, not the fast one.
func (s healthState) settled() bool {
	switch s.health {
	case HealthUp:
		return s.failures == 0
	case HealthDown:
		return s.successes == 0
	}
	return false
}

// interval returns how long to wait before the next check.
func (s healthState) interval(p Policy) time.Duration {
	if s.settled() {
		return p.Interval
	}
	return p.FastInterval
}
