package failover

import (
	"fmt"
	"time"
)

// Defaults applied by [Policy] for fields left at their zero value.
const (
	DefaultInterval      = 10 * time.Second
	DefaultMaxTimeout    = 5 * time.Second // Timeout defaults to the smaller of Interval/2 and this
	DefaultFailAfter     = 3
	DefaultRecoverAfter  = 2
	DefaultFailbackDelay = time.Minute
	DefaultMinHealthy    = 1
	DefaultTTL           = 60 * time.Second
	DefaultFailoverTTL   = 30 * time.Second
	DefaultStableAfter   = 10 * time.Minute
	// DefaultConfirmInterval paces the checks that confirm a Watcher's
	// notice: a few milliseconds, so that watching fails over in
	// milliseconds (FailAfter 3: two confirm intervals after the notice).
	DefaultConfirmInterval = 5 * time.Millisecond
)

// AllDown says what a record publishes when none of its endpoints is
// healthy. The zero value is [KeepPublished].
type AllDown int

const (
	// KeepPublished leaves the record as it is: the last decision stays in
	// DNS. This is the default: a monitoring outage must not take a site off
	// the air.
	KeepPublished AllDown = iota
	// PublishAll publishes every endpoint of the record, in every tier
	// (fail-open, as Route 53 does), capped by MaxAnswers.
	PublishAll
	// PublishFallback publishes Policy.Fallback (a "sorry" server).
	PublishFallback
	// PublishNothing deletes the record's RRset. It is the only way the
	// Manager ever writes an empty RRset, and it needs a provider that
	// implements libdns.RecordDeleter.
	PublishNothing
)

var allDownNames = [...]string{"keep", "all", "fallback", "nothing"}

// String returns "keep", "all", "fallback" or "nothing".
func (a AllDown) String() string {
	if a < 0 || int(a) >= len(allDownNames) {
		return fmt.Sprintf("AllDown(%d)", int(a))
	}
	return allDownNames[a]
}

// MarshalText encodes a as its String form.
func (a AllDown) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText decodes the String form ("keep", "all", "fallback",
// "nothing").
func (a *AllDown) UnmarshalText(b []byte) error {
	return unmarshalName(b, allDownNames[:], (*int)(a), "all-down action")
}

// Policy says how check results become a decision for one record. It is a
// value type: the zero value means every documented default, and each field
// left at zero takes its default independently.
type Policy struct {
	// Interval between two checks of an endpoint whose state is settled.
	// Zero means DefaultInterval. It must be at least 1 ms: a smaller
	// value is surely a units mistake (a time.Duration counts
	// nanoseconds).
	Interval time.Duration
	// Timeout of one check. Zero means the smaller of Interval/2 and
	// DefaultMaxTimeout. It must be less than Interval and, when set, at
	// least 1 ms.
	Timeout time.Duration
	// Jitter is the largest random delay added to each scheduled check, so
	// that checks of many endpoints spread out. Zero means Interval/10. It
	// must be less than Interval.
	Jitter time.Duration
	// FailAfter consecutive failed checks mark a healthy endpoint down.
	// Zero means DefaultFailAfter.
	FailAfter int
	// RecoverAfter consecutive successful checks mark an unhealthy endpoint
	// up. Zero means DefaultRecoverAfter. An endpoint whose state is not
	// known yet (at start-up) becomes up after RecoverAfter successes in a
	// row or down after FailAfter failures, in a row or not, whichever
	// comes first: one that alternates from start-up is down, never
	// unknown for ever.
	RecoverAfter int
	// FastInterval is the interval between checks while an endpoint is
	// between states (it has failed but not FailAfter times, recovered but
	// not RecoverAfter times, or is not known yet), so that a threshold of 3
	// does not cost three full intervals. Zero means Interval/4. It must not
	// be more than Interval, and when set, at least 1 ms.
	FastInterval time.Duration
	// ConfirmInterval is the interval between the checks that confirm or
	// lift a suspicion raised by a Watcher (a watching checker saw a
	// connection die): they run back to back at this pace until FailAfter
	// have failed or one passes. It may be as short as a few milliseconds,
	// but not below 1 ms. Zero means the smaller of DefaultConfirmInterval
	// and FastInterval, so that watching fails over in milliseconds.
	ConfirmInterval time.Duration
	// FailbackDelay is how long a more preferred tier must stay healthy
	// without a break before the record fails back to it. Zero means
	// DefaultFailbackDelay; set a tiny value such as time.Nanosecond to fail
	// back as soon as the tier has recovered. Failing over to a less
	// preferred tier never waits.
	FailbackDelay time.Duration
	// ManualFailback, when set, makes the record stay on a less preferred
	// tier until an operator calls Manager.Failback, however long the
	// preferred tier has been healthy.
	ManualFailback bool
	// MinHealthy is how many healthy endpoints a tier needs to be used (or,
	// for a tier with fewer endpoints, all of them). Zero means
	// DefaultMinHealthy. When no tier has enough, the most preferred tier
	// with any healthy endpoint is used.
	MinHealthy int
	// MaxAnswers caps how many values the record publishes. Zero means all
	// the healthy endpoints of the active tier. A CNAME always publishes one.
	MaxAnswers int
	// AllDown says what to publish when no endpoint is healthy. The zero
	// value is KeepPublished.
	AllDown AllDown
	// Fallback values published when AllDown is PublishFallback. They must
	// be valid for the record's type, as endpoint values are; a CNAME takes
	// one.
	Fallback []string
	// TTL published while the record is stable. Zero means DefaultTTL. It
	// must be a whole number of seconds, at most 2^31-1 s (RFC 2181).
	TTL time.Duration
	// FailoverTTL published while the record is unstable: after a change of
	// its values, until StableAfter has passed without another. Zero means
	// DefaultFailoverTTL. It must not be more than TTL.
	FailoverTTL time.Duration
	// StableAfter is how long a record must go without change before TTL is
	// restored. Zero means DefaultStableAfter.
	StableAfter time.Duration
	// LowerTTLOnFailing lowers the TTL to FailoverTTL as soon as a published
	// endpoint fails a check, before it is marked down. It helps only the
	// resolvers that refresh the record between that first failed check and
	// the failover: they cache the lowered TTL, and so see the failover
	// sooner. For an abrupt failure (down after FailAfter checks a few
	// seconds apart, or milliseconds apart when watching) almost no
	// resolver refreshes in between: clients still wait out the TTL
	// published before the failure, and the option only costs a second
	// write. It pays off when failures build up slowly over several
	// intervals. Each record sharing a check applies its own setting.
	LowerTTLOnFailing bool
}

// withDefaults returns p with every zero field replaced by its default.
func (p Policy) withDefaults() Policy {
	if p.Interval == 0 {
		p.Interval = DefaultInterval
	}
	if p.Timeout == 0 {
		p.Timeout = min(p.Interval/2, DefaultMaxTimeout)
	}
	if p.Jitter == 0 {
		p.Jitter = p.Interval / 10
	}
	if p.FailAfter == 0 {
		p.FailAfter = DefaultFailAfter
	}
	if p.RecoverAfter == 0 {
		p.RecoverAfter = DefaultRecoverAfter
	}
	if p.FastInterval == 0 {
		p.FastInterval = p.Interval / 4
	}
	if p.ConfirmInterval == 0 {
		p.ConfirmInterval = min(DefaultConfirmInterval, p.FastInterval)
	}
	if p.FailbackDelay == 0 {
		p.FailbackDelay = DefaultFailbackDelay
	}
	if p.MinHealthy == 0 {
		p.MinHealthy = DefaultMinHealthy
	}
	if p.TTL == 0 {
		p.TTL = DefaultTTL
	}
	if p.FailoverTTL == 0 {
		p.FailoverTTL = min(DefaultFailoverTTL, p.TTL)
	}
	if p.StableAfter == 0 {
		p.StableAfter = DefaultStableAfter
	}
	return p
}

// problems returns what is wrong with p (after defaults) as field-message
// pairs; valid checks the fallback values against the record type.
func (p Policy) problems(valid func(string) error) []fieldError {
	var errs []fieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, fieldError{field: "Policy." + field, msg: fmt.Sprintf(format, args...)})
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"Interval", p.Interval}, {"Timeout", p.Timeout}, {"Jitter", p.Jitter},
		{"FastInterval", p.FastInterval}, {"ConfirmInterval", p.ConfirmInterval}, {"FailbackDelay", p.FailbackDelay},
		{"TTL", p.TTL}, {"FailoverTTL", p.FailoverTTL}, {"StableAfter", p.StableAfter},
	} {
		if d.v < 0 {
			add(d.name, "negative duration %v", d.v)
		}
	}
	for _, n := range []struct {
		name string
		v    int
	}{
		{"FailAfter", p.FailAfter}, {"RecoverAfter", p.RecoverAfter}, {"MinHealthy", p.MinHealthy},
	} {
		if n.v < 1 {
			add(n.name, "%d is below 1", n.v)
		}
	}
	if p.MaxAnswers < 0 {
		add("MaxAnswers", "%d is negative", p.MaxAnswers)
	}
	if p.Interval > 0 && p.Timeout >= p.Interval {
		add("Timeout", "%v is not less than Interval %v", p.Timeout, p.Interval)
	}
	if p.Interval > 0 && p.Jitter >= p.Interval {
		add("Jitter", "%v is not less than Interval %v", p.Jitter, p.Interval)
	}
	if p.FastInterval > p.Interval {
		add("FastInterval", "%v is more than Interval %v", p.FastInterval, p.Interval)
	}
	if p.ConfirmInterval > p.Interval {
		add("ConfirmInterval", "%v is more than Interval %v", p.ConfirmInterval, p.Interval)
	}
	if p.TTL%time.Second != 0 || (p.TTL > 0 && p.TTL < time.Second) {
		add("TTL", "%v is not a whole number of seconds", p.TTL)
	}
	if p.FailoverTTL%time.Second != 0 || (p.FailoverTTL > 0 && p.FailoverTTL < time.Second) {
		add("FailoverTTL", "%v is not a whole number of seconds", p.FailoverTTL)
	}
	if p.FailoverTTL > p.TTL {
		add("FailoverTTL", "%v is more than TTL %v", p.FailoverTTL, p.TTL)
	}
	switch p.AllDown {
	case KeepPublished, PublishAll, PublishNothing:
		if len(p.Fallback) > 0 {
			add("Fallback", "values are given but AllDown is %v, not fallback", p.AllDown)
		}
	case PublishFallback:
		if len(p.Fallback) == 0 {
			add("Fallback", "AllDown is fallback but no fallback value is given")
		}
	default:
		add("AllDown", "unknown value %d", int(p.AllDown))
	}
	seen := map[string]bool{}
	for i, v := range p.Fallback {
		if err := valid(v); err != nil {
			add(fmt.Sprintf("Fallback[%d]", i), "%v", err)
		} else if seen[v] {
			add(fmt.Sprintf("Fallback[%d]", i), "duplicate value %q", v)
		}
		seen[v] = true
	}
	return errs
}
