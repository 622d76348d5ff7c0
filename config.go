package failover

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/libdns/libdns"
)

// Defaults applied by [Config] for fields left at their zero value.
const (
	DefaultReconcileInterval = time.Minute
	DefaultRetryBackoff      = time.Second
	DefaultMaxRetryBackoff   = time.Minute
	DefaultProviderTimeout   = 30 * time.Second
	DefaultMaxChecks         = 1024
	DefaultStopTimeout       = 10 * time.Second
	DefaultEventBuffer       = 1 << 16

	DefaultPropagationTimeout  = 5 * time.Minute
	DefaultPropagationInterval = time.Second
)

// Config is everything a [Manager] needs. New copies it; later changes to
// the caller's Config, or to slices it holds, have no effect.
//
// New rejects a duration set below 1 ms (surely a units mistake: a
// time.Duration counts nanoseconds), a RetryBackoff above MaxRetryBackoff
// and a PropagationInterval above PropagationTimeout (defaults included).
type Config struct {
	// Zones to manage. At least one.
	Zones []Zone
	// OnEvent, when set, is called for every Event, in order, from one
	// goroutine, never while the Manager holds a lock (so it may call
	// Status). Events wait for it in a queue of EventBuffer events; while
	// the queue is full, further events are dropped (and logged, never
	// delivered), counted in Status.Events: the Manager never waits for
	// OnEvent. It should return quickly.
	OnEvent func(Event)
	// EventBuffer is how many events may wait for OnEvent. Zero means
	// DefaultEventBuffer.
	EventBuffer int
	// StopTimeout bounds how long Run waits, once its context is done, for
	// what does not stop by itself: checks and watches that ignore their
	// context, then (once every write in flight has finished) OnEvent to
	// take the events left. Past it Run returns an error wrapping
	// ErrAbandoned that names what it left running. Zero means
	// DefaultStopTimeout.
	StopTimeout time.Duration
	// Logger receives a line per event. Nil means no logging.
	Logger *slog.Logger
	// DryRun runs checks and decisions and emits every event (marked
	// DryRun) but never writes to a provider. Zones are still read at
	// start-up.
	DryRun bool
	// ReconcileInterval is how often each zone is read back from each
	// provider to repair drift. Zero means DefaultReconcileInterval.
	ReconcileInterval time.Duration
	// RetryBackoff is the first wait after a failed read or write; it
	// doubles on each further failure, with jitter, up to MaxRetryBackoff.
	// Zero means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// MaxRetryBackoff caps the wait between retries. Zero means
	// DefaultMaxRetryBackoff.
	MaxRetryBackoff time.Duration
	// ProviderTimeout bounds one call to a provider: a read (GetRecords)
	// or a write (SetRecords, DeleteRecords). A write is bounded by it
	// alone, not cancelled when Run's context ends. A call that ignores
	// its context and has not returned a tenth of ProviderTimeout after it
	// is abandoned: reported failed (ErrCallAbandoned), left to finish,
	// counted in ProviderStatus.Abandoned while it runs. Zero means
	// DefaultProviderTimeout or, with a Cluster, half its LeaseTTL if that
	// is less.
	ProviderTimeout time.Duration
	// MaxChecks bounds how many checks run at once across all records.
	// Zero means DefaultMaxChecks.
	MaxChecks int
	// PropagationTimeout is how long the zone's authoritative servers are
	// asked for a new decision before an EventPropagationSlow warning. Zero
	// means DefaultPropagationTimeout.
	PropagationTimeout time.Duration
	// PropagationInterval is the pause between two questions to one
	// server. Zero means DefaultPropagationInterval.
	PropagationInterval time.Duration

	// Cluster, when set, makes this Manager one instance of a deployment
	// of several with the same Zones (see [Cluster]): it checks every
	// endpoint and publishes its verdicts to the cluster, each endpoint's
	// health is the Quorum of the live instances' verdicts, and only the
	// elected leader decides and writes, under its lease. Nil means a
	// Manager alone. New refuses a Cluster whose LeaseTTL is not above
	// ProviderTimeout. A Cluster serves one Manager at a time, whose Run
	// runs it: a reload's new Manager (see CarryOver) takes a Cluster not
	// run before (of cluster/etcd, a new one from New, with the same
	// instance name), and publishes the verdicts it carried at once.
	Cluster Cluster
	// Quorum combines the instances' verdicts when Cluster is set. The
	// zero value is a majority of the live instances.
	Quorum Quorum
}

// Zone is one DNS zone and the records managed in it.
type Zone struct {
	// Name is the zone's FQDN with its trailing dot, such as "example.com.".
	Name string
	// Providers serve the zone, each given once, none nil. Each is
	// written independently: one failing does not hold back the others.
	Providers []Provider
	// Records managed in the zone. Only their (name, type) pairs are ever
	// written; every other record in the zone is left alone.
	Records []Record
	// CheckPropagation makes the Manager ask the zone's authoritative
	// servers directly (not a recursive resolver), after each decision,
	// until each answers it, with an EventPropagated per server, or an
	// EventPropagationSlow after PropagationTimeout. The servers are
	// Nameservers or, when that is empty, the zone's NS records as the
	// system resolver finds them.
	CheckPropagation bool
	// Nameservers are the zone's authoritative servers, as "host" or
	// "host:port" (port 53 by default), host a name or an address. Setting
	// them turns CheckPropagation on.
	Nameservers []string
}

// Record is one managed RRset: a name and type whose values are chosen
// among its endpoints.
type Record struct {
	// Name relative to the zone ("www"), "@" for the apex, "*" as the
	// first label for a wildcard. The full name must fit in 253
	// characters, and must not lie inside another zone of the Config
	// (it belongs in that zone).
	Name string
	// Type is "A", "AAAA" or "CNAME". A CNAME publishes exactly one value,
	// and cannot be at the apex.
	Type string
	// Endpoints are the candidate values.
	Endpoints []Endpoint
	// Check decides whether an endpoint is healthy; it is called with the
	// endpoint's Value as target. It must not be nil, nor hold a nil
	// pointer or func; New calls its Validate method if it has one (see
	// Checker). Records whose Checkers are the same (one pointer, or
	// equal values such as two &check.HTTP{Port: 80} written apart: see
	// Checker's SameCheck; never a CheckerFunc) for the same target with
	// the same Policy timing and thresholds share one check, and decide
	// together, so their changes go out in one write. Each still applies
	// its own Policy's other fields.
	Check Checker
	// Policy turns check results into a decision. The zero value means all
	// defaults.
	Policy Policy
}

// Endpoint is one candidate value of a record.
type Endpoint struct {
	// Value published when the endpoint is used: an IPv4 address for A, an
	// IPv6 address for AAAA (neither unspecified), a host name for CNAME
	// (taken as fully qualified, with or without its trailing dot; not an
	// IP address, not the record's own name).
	Value string
	// Priority groups endpoints into tiers: the lowest number is the most
	// preferred tier, and all healthy endpoints of the active tier are
	// published together.
	Priority int
}

// Provider is what the Manager needs of a libdns provider: reading a zone
// and replacing RRsets. Providers must be safe for concurrent use.
//
// Optional extras are found by type assertion: [MinTTLProvider] for a TTL
// floor, [AutomaticTTLProvider] for records whose TTL the provider
// chooses, libdns.RecordDeleter to delete an RRset (needed only by
// [PublishNothing]), and a Name() string method to name the provider in
// events and Status.
type Provider interface {
	libdns.RecordGetter
	libdns.RecordSetter
}

// MinTTLProvider is implemented by providers that reject TTLs below a
// floor (Cloudflare: 60 s). The Manager raises every TTL it writes to that
// provider to at least MinTTL.
type MinTTLProvider interface {
	MinTTL() time.Duration
}

// AutomaticTTLProvider is implemented by providers where a record can
// have a TTL the provider chooses whatever is written (Cloudflare's
// proxied records report TTL 1, "automatic"), and that read such a record
// with TTL AutomaticTTL. The Manager does not manage the TTL of an RRset
// read with it: any TTL it wants matches, so the RRset is written when its
// values change, never for its TTL alone (Status shows the TTL decided,
// which the provider does not serve).
type AutomaticTTLProvider interface {
	AutomaticTTL() time.Duration
}

// RecordID names one managed record.
type RecordID struct {
	Zone string // FQDN with trailing dot
	Name string // relative name, "@" for the apex
	Type string // "A", "AAAA" or "CNAME"
}

// String returns the record as "name zone type", such as "www.example.com. A".
func (id RecordID) String() string {
	return fmt.Sprintf("%s %s", libdns.AbsoluteName(id.Name, id.Zone), id.Type)
}

// withDefaults returns c with every zero field replaced by its default.
func (c Config) withDefaults() Config {
	if c.ReconcileInterval == 0 {
		c.ReconcileInterval = DefaultReconcileInterval
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.MaxRetryBackoff == 0 {
		c.MaxRetryBackoff = DefaultMaxRetryBackoff
	}
	if c.ProviderTimeout == 0 {
		c.ProviderTimeout = DefaultProviderTimeout
		if c.Cluster != nil && !isNil(c.Cluster) {
			c.ProviderTimeout = min(c.ProviderTimeout, c.Cluster.LeaseTTL()/2)
		}
	}
	if c.MaxChecks == 0 {
		c.MaxChecks = DefaultMaxChecks
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = DefaultStopTimeout
	}
	if c.EventBuffer == 0 {
		c.EventBuffer = DefaultEventBuffer
	}
	if c.PropagationTimeout == 0 {
		c.PropagationTimeout = DefaultPropagationTimeout
	}
	if c.PropagationInterval == 0 {
		c.PropagationInterval = DefaultPropagationInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
