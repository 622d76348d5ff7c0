package failover

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// EventKind says what an [Event] reports. The table in Event's doc says
// which fields each kind sets.
type EventKind int

const (
	// EventEndpointUp: an endpoint became healthy.
	EventEndpointUp EventKind = iota + 1
	// EventEndpointDown: an endpoint became unhealthy; Err is the last
	// check's error.
	EventEndpointDown
	// EventRecordDecided: what a record publishes, or its TTL, changed:
	// from its previous decision or, at start-up, from what DNS held.
	// Every provider of the zone is then written.
	EventRecordDecided
	// EventAllDown: no endpoint of a record is healthy; Reason says what
	// the record publishes meanwhile.
	EventAllDown
	// EventRecordWritten: a provider now holds the record's decided
	// values.
	EventRecordWritten
	// EventProviderCallFailed: a call to a provider for a zone failed:
	// reading the zone (OpGet) or writing it (OpSet, OpDelete). The zone
	// is read back and the call retried after a backoff; a write of
	// several RRsets that fails twice in a row is split until the RRset
	// the provider rejects is found (see EventRecordQuarantined). A
	// delete that removed fewer records than asked failed too.
	EventProviderCallFailed
	// EventDriftRepaired: a provider held something else than the decided
	// values (Previous), and the Manager wrote them back.
	EventDriftRepaired
	// EventOverrideSet: an operator forced an endpoint up or down.
	EventOverrideSet
	// EventOverrideEnded: an override reached its expiry, or an operator
	// cleared it (Reason says which); the checks decide again.
	EventOverrideEnded
	// EventPropagated: an authoritative server of the zone answers the
	// record's decided values.
	EventPropagated
	// EventPropagationSlow: an authoritative server still did not answer
	// the decided values after PropagationTimeout, or the zone's servers
	// could not be found.
	EventPropagationSlow
	// EventSuspected: a Watcher noticed trouble with an endpoint; it is
	// being checked at once to confirm or lift the suspicion.
	EventSuspected
	// EventSuspicionEnded: the checks after a suspicion decided it:
	// confirmed (Health is HealthDown) or lifted (a check passed).
	EventSuspicionEnded
	// EventRecordQuarantined: a provider keeps rejecting one record's
	// RRset: written alone it failed, while the rest of the zone could be
	// written, or with an error matching ErrRRsetRefused. The record is set aside (see ProviderStatus.Quarantined)
	// so that it no longer holds back the others, and retried alone after
	// a backoff; each retry that fails is reported again. Failures counts
	// the record's failed writes in a row, Err is the provider's error.
	EventRecordQuarantined
	// EventTTLFloorLearned: a provider holds an RRset the Manager wrote
	// with a higher TTL than it was written with (a floor the provider
	// applies without declaring it, see MinTTLProvider), also in a read
	// right after writing it again. From then on every TTL written to that
	// provider for the zone is raised to TTL, the floor learned, and the
	// difference is no longer taken for drift. Reported once per zone and
	// provider (again only if a higher floor is learned).
	EventTTLFloorLearned
	// EventRecordAdopted: a record's first decision after start-up is what
	// DNS already held (values and TTL): nothing changed, nothing is
	// written. A restart emits it instead of EventRecordDecided.
	EventRecordAdopted
	// EventInstanceIsolated: with a Cluster, this instance's verdicts
	// differ on most endpoints from those a majority of the live
	// instances agree on without it (it cannot reach what the others
	// reach, or the reverse): its votes are left out of every quorum, so
	// that it fails nothing over alone, until they agree again. No more
	// instances are isolated than leave a majority of them counted; while
	// this instance is not connected to the Cluster, its isolation stays
	// as last found.
	EventInstanceIsolated
	// EventInstanceRejoined: this instance's verdicts agree with the
	// cluster's again; its votes count again.
	EventInstanceRejoined
)

var eventKindNames = map[EventKind]string{
	EventEndpointUp:         "endpoint-up",
	EventEndpointDown:       "endpoint-down",
	EventRecordDecided:      "record-decided",
	EventAllDown:            "all-down",
	EventRecordWritten:      "record-written",
	EventProviderCallFailed: "provider-call-failed",
	EventDriftRepaired:      "drift-repaired",
	EventOverrideSet:        "override-set",
	EventOverrideEnded:      "override-ended",
	EventPropagated:         "propagated",
	EventPropagationSlow:    "propagation-slow",
	EventSuspected:          "suspected",
	EventSuspicionEnded:     "suspicion-ended",
	EventRecordQuarantined:  "record-quarantined",
	EventTTLFloorLearned:    "ttl-floor-learned",
	EventRecordAdopted:      "record-adopted",
	EventInstanceIsolated:   "instance-isolated",
	EventInstanceRejoined:   "instance-rejoined",
}

// String returns the kind in kebab case, such as "endpoint-down".
func (k EventKind) String() string {
	if s, ok := eventKindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// MarshalText encodes k as its String form.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Operation is a call the Manager makes to a provider, as reported by
// [EventProviderCallFailed].
type Operation int

const (
	// OpNone: the event is not about a provider call.
	OpNone Operation = iota
	// OpGet reads the zone (libdns GetRecords).
	OpGet
	// OpSet writes RRsets (libdns SetRecords).
	OpSet
	// OpDelete deletes RRsets decided empty (libdns DeleteRecords).
	OpDelete
)

var operationNames = [...]string{"none", "get", "set", "delete"}

// String returns "none", "get", "set" or "delete".
func (o Operation) String() string {
	if o < 0 || int(o) >= len(operationNames) {
		return fmt.Sprintf("Operation(%d)", int(o))
	}
	return operationNames[o]
}

// MarshalText encodes o as its String form.
func (o Operation) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Event reports one thing the Manager saw or did. Every event sets Kind,
// Time, Zone (except the instance events, about no zone) and DryRun; the
// other fields are set by these kinds only, and are zero otherwise:
//
//	Kind                  also sets
//	endpoint-up           Record, Endpoint, Health, CheckDuration
//	endpoint-down         Record, Endpoint, Health, CheckDuration, Err
//	record-decided        Record, Values, Previous, TTL, Reason
//	record-adopted        Record, Values, TTL, Reason
//	all-down              Record, Values, TTL, Reason
//	record-written        Record, Provider, Values, Previous, TTL, CallDuration,
//	                      Reason (when the write was not a plain one: found in
//	                      line by the read-back after a failed call, or written
//	                      without reading the zone)
//	provider-call-failed  Provider, Operation, Failures, Err (no Record: a call is for a zone)
//	drift-repaired        Record, Provider, Values, Previous, TTL
//	override-set          Record, Endpoint, Override, OverrideUntil, Reason
//	override-ended        Record, Endpoint, Override, OverrideUntil, Reason
//	propagated            Record, Nameserver, Values, Elapsed
//	propagation-slow      Record, Nameserver, Values, Previous, Elapsed, Err
//	                      (Record, Values, Err when no server of the zone was found)
//	suspected             Record, Endpoint, Err
//	suspicion-ended       Record, Endpoint, Health, Reason, Elapsed, Err
//	record-quarantined    Record, Provider, Operation, Values, TTL, Failures, Err
//	ttl-floor-learned     Record, Provider, Values, TTL (the floor), Reason
//	instance-isolated     Instance, Reason
//	instance-rejoined     Instance, Reason
//
// With a [Cluster], only the leader emits record-decided, record-adopted,
// all-down and override-ended (for an expiry), and only the leader writes;
// every instance reports its own checks (endpoint-up, endpoint-down,
// suspected, suspicion-ended) and the operator calls made through it.
type Event struct {
	Kind EventKind
	// Time is when the Manager saw or did it.
	Time time.Time
	// Zone is the zone's name, with its trailing dot.
	Zone string
	// Record is the record the event is about.
	Record RecordID
	// Endpoint is the endpoint's value, such as "192.0.2.10".
	Endpoint string
	// Health is the endpoint's health after the event.
	Health Health
	// CheckDuration is how long the check that changed the endpoint's
	// health took.
	CheckDuration time.Duration
	// Provider names the provider called, as in ProviderStatus.Name.
	Provider string
	// Operation is the provider call that failed.
	Operation Operation
	// Failures counts the failed calls in a row to the provider for the
	// zone, this one included (as ProviderStatus.Failures).
	Failures int
	// Nameserver is the authoritative server asked, as "host:port".
	Nameserver string
	// Values is what the record publishes: as decided (record-decided,
	// all-down), as written (record-written, drift-repaired), as expected
	// from the server (propagated, propagation-slow).
	Values []string
	// Previous is what was there before: the record's previous decision
	// (record-decided), what the provider held (record-written,
	// drift-repaired), what the server last answered (propagation-slow).
	Previous []string
	// TTL is the TTL of Values: as decided, or as written (raised to the
	// provider's floor).
	TTL time.Duration
	// Reason says why, for people: why a record publishes Values, why an
	// override ended ("expired", "cleared by operator"), how a suspicion
	// ended. Its wording is not a contract.
	Reason string
	// Override is the override set, or the one that ended.
	Override Override
	// OverrideUntil is that override's expiry; zero means none.
	OverrideUntil time.Time
	// CallDuration is how long the provider took to write.
	CallDuration time.Duration
	// Elapsed is how long what the event concludes took: from the decision
	// to the server's answer (propagated, propagation-slow), from the
	// watcher's notice to the verdict (suspicion-ended).
	Elapsed time.Duration
	// Err is what went wrong: the last check's error (endpoint-down,
	// suspicion-ended), the provider's (provider-call-failed), what the
	// watcher saw (suspected), why the server could not be asked
	// (propagation-slow).
	Err error
	// DryRun marks events of a Manager in dry-run mode: nothing was
	// written.
	DryRun bool
	// Instance names the cluster instance the event is about (see
	// Cluster.Instance).
	Instance string
}

// String formats e on one line for logs and terminals: its kind, its
// record (or zone), then every field it sets as key=value.
func (e Event) String() string {
	var b strings.Builder
	b.WriteString(e.Kind.String())
	for _, a := range e.attrs() {
		b.WriteByte(' ')
		if a.Key == "record" {
			b.WriteString(a.Value.String())
			continue
		}
		v := a.Value.String()
		if a.Value.Kind() == slog.KindString && needsQuoting(v) {
			v = strconv.Quote(v)
		}
		b.WriteString(a.Key + "=" + v)
	}
	return b.String()
}

// needsQuoting reports whether s must be quoted to read as one value.
func needsQuoting(s string) bool {
	return s == "" || strings.ContainsFunc(s, func(r rune) bool {
		return r == ' ' || r == '"' || r == '=' || !unicode.IsPrint(r)
	})
}

// attrs returns the fields e sets, in a fixed order, for String and the
// log.
func (e Event) attrs() []slog.Attr {
	var attrs []slog.Attr
	add := func(a slog.Attr) { attrs = append(attrs, a) }
	str := func(key, v string) {
		if v != "" {
			add(slog.String(key, v))
		}
	}
	dur := func(key string, d time.Duration) {
		if d != 0 {
			add(slog.Duration(key, d))
		}
	}
	if e.Record != (RecordID{}) {
		add(slog.String("record", e.Record.String()))
	} else {
		str("zone", e.Zone)
	}
	str("instance", e.Instance)
	str("endpoint", e.Endpoint)
	if e.Health != HealthUnknown {
		add(slog.String("health", e.Health.String()))
	}
	str("nameserver", e.Nameserver)
	str("provider", e.Provider)
	if e.Operation != OpNone {
		add(slog.String("op", e.Operation.String()))
	}
	if e.Failures != 0 {
		add(slog.Int("failures", e.Failures))
	}
	if e.Values != nil {
		add(slog.Any("values", e.Values))
	}
	dur("ttl", e.TTL)
	if e.Previous != nil {
		add(slog.Any("previous", e.Previous))
	}
	if e.Override != NoOverride {
		add(slog.String("override", e.Override.String()))
	}
	if !e.OverrideUntil.IsZero() {
		add(slog.String("until", e.OverrideUntil.Format(time.RFC3339)))
	}
	dur("check_duration", e.CheckDuration)
	dur("call_duration", e.CallDuration)
	dur("elapsed", e.Elapsed)
	str("reason", e.Reason)
	if e.Err != nil {
		add(slog.String("err", e.Err.Error()))
	}
	if e.DryRun {
		add(slog.Bool("dry_run", true))
	}
	return attrs
}

// slogLevel is the level events of kind k are logged at.
func slogLevel(k EventKind) slog.Level {
	switch k {
	case EventEndpointDown, EventAllDown, EventProviderCallFailed, EventDriftRepaired, EventPropagationSlow,
		EventRecordQuarantined, EventTTLFloorLearned, EventInstanceIsolated:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// eventQueue delivers events in order from one goroutine. It holds at
// most limit events: push never blocks, and drops (and counts) what does
// not fit. The callback never runs under the queue's lock.
type eventQueue struct {
	mu         sync.Mutex
	queue      []Event
	limit      int
	dropped    uint64        // since the queue was made
	unreported uint64        // dropped since deliver last reported it
	closed     bool          // deliver returns once the queue is empty
	abandoned  bool          // deliver returns after the event it delivers
	wake       chan struct{} // capacity 1
}

func newEventQueue(limit int) *eventQueue {
	return &eventQueue{limit: limit, wake: make(chan struct{}, 1)}
}

func (q *eventQueue) push(events ...Event) {
	if len(events) == 0 {
		return
	}
	q.mu.Lock()
	room := max(q.limit-len(q.queue), 0)
	if len(events) > room {
		n := uint64(len(events) - room)
		q.dropped += n
		q.unreported += n
		events = events[:room]
	}
	q.queue = append(q.queue, events...)
	q.mu.Unlock()
	q.signal()
}

func (q *eventQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// close makes deliver return once the queued events are delivered.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

// abandon makes deliver return after the event it is delivering, and
// returns how many events were still queued, now never delivered.
func (q *eventQueue) abandon() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.queue)
	q.queue, q.abandoned = nil, true
	return n
}

// deliver calls f for every event, one at a time, and dropped with the
// number of events dropped since the last call, until close or abandon.
func (q *eventQueue) deliver(f func(Event), dropped func(uint64)) {
	for {
		q.mu.Lock()
		var e Event
		n, unreported, closed, abandoned := len(q.queue), q.unreported, q.closed, q.abandoned
		if n > 0 {
			e = q.queue[0]
			q.queue[0] = Event{}
			q.queue = q.queue[1:]
		}
		q.unreported = 0
		q.mu.Unlock()
		switch {
		case abandoned, closed && n == 0 && unreported == 0:
			return
		case unreported > 0:
			dropped(unreported)
		}
		if n > 0 {
			f(e)
		} else if !closed {
			<-q.wake
		}
	}
}

// status returns the queue's counts for Status.
func (q *eventQueue) status() EventStatus {
	q.mu.Lock()
	defer q.mu.Unlock()
	return EventStatus{Buffer: q.limit, Queued: len(q.queue), Dropped: q.dropped}
}
