package failover

import (
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// EventKind says what an [Event] reports.
type EventKind int

const (
	// EventEndpointUp: an endpoint became healthy (Endpoint, Health).
	EventEndpointUp EventKind = iota + 1
	// EventEndpointDown: an endpoint became unhealthy; Err is the last
	// check's error.
	EventEndpointDown
	// EventRecordDecided: what a record publishes changed (Values, TTL,
	// Previous, Reason). Every provider is then written.
	EventRecordDecided
	// EventAllDown: no endpoint of a record is healthy; Reason says what
	// the record publishes meanwhile.
	EventAllDown
	// EventRecordWritten: a provider now holds the record's decided values
	// (Provider, Values, TTL, Duration of the call).
	EventRecordWritten
	// EventWriteFailed: reading or writing a provider failed (Provider,
	// Err, Attempt); it is retried after a backoff.
	EventWriteFailed
	// EventDriftRepaired: a provider held something else than the decided
	// values (Previous: what it held), and the Manager wrote them back.
	EventDriftRepaired
	// EventOverrideSet: an operator forced an endpoint up or down
	// (Override, Until).
	EventOverrideSet
	// EventOverrideExpired: an override reached its expiry, or was cleared.
	EventOverrideExpired
	// EventPropagated: an authoritative server of the zone (Endpoint)
	// answers the record's decided Values; Duration is the time since the
	// decision.
	EventPropagated
	// EventPropagationSlow: an authoritative server (Endpoint) still did not
	// answer the decided Values after PropagationTimeout; Previous is what
	// it answered last, Err why it could not be asked, if it could not.
	EventPropagationSlow
	// EventSuspected: a Watcher noticed trouble with an endpoint (Err); it
	// is being checked at once to confirm or lift the suspicion.
	EventSuspected
	// EventSuspicionEnded: the checks after a suspicion decided it (Reason:
	// confirmed or lifted); Duration is the time from the notice.
	EventSuspicionEnded
)

var eventKindNames = map[EventKind]string{
	EventEndpointUp:      "endpoint-up",
	EventEndpointDown:    "endpoint-down",
	EventRecordDecided:   "record-decided",
	EventAllDown:         "all-down",
	EventRecordWritten:   "record-written",
	EventWriteFailed:     "write-failed",
	EventDriftRepaired:   "drift-repaired",
	EventOverrideSet:     "override-set",
	EventOverrideExpired: "override-expired",
	EventPropagated:      "propagated",
	EventPropagationSlow: "propagation-slow",
	EventSuspected:       "suspected",
	EventSuspicionEnded:  "suspicion-ended",
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

// Event reports one thing the Manager saw or did. Fields that do not apply
// to a Kind are zero.
type Event struct {
	Kind     EventKind
	Time     time.Time
	Record   RecordID
	Endpoint string        // endpoint value
	Provider string        // provider name
	Health   Health        // endpoint events
	Values   []string      // what the record publishes now
	Previous []string      // what it published before
	TTL      time.Duration // TTL of Values
	Reason   string        // why a decision was made
	Override Override      // override events
	Until    time.Time     // override expiry; zero means none
	Duration time.Duration // check latency or write duration
	Attempt  int           // failed attempts in a row, for EventWriteFailed
	Err      error
	// DryRun marks events of a Manager in dry-run mode: nothing was
	// written.
	DryRun bool
}

// String formats e on one line for logs and terminals.
func (e Event) String() string {
	s := fmt.Sprintf("%s %s", e.Kind, e.Record)
	if e.Endpoint != "" {
		s += " endpoint=" + e.Endpoint
	}
	if e.Provider != "" {
		s += " provider=" + e.Provider
	}
	if e.Values != nil {
		s += fmt.Sprintf(" values=%v ttl=%v", e.Values, e.TTL)
	}
	if e.Previous != nil {
		s += fmt.Sprintf(" previous=%v", e.Previous)
	}
	if e.Reason != "" {
		s += fmt.Sprintf(" reason=%q", e.Reason)
	}
	if e.Err != nil {
		s += fmt.Sprintf(" err=%q", e.Err)
	}
	if e.DryRun {
		s += " dry-run"
	}
	return s
}

func (e Event) logAttrs() []slog.Attr {
	attrs := []slog.Attr{slog.String("record", e.Record.String())}
	add := func(a slog.Attr) { attrs = append(attrs, a) }
	if e.Endpoint != "" {
		add(slog.String("endpoint", e.Endpoint))
	}
	if e.Provider != "" {
		add(slog.String("provider", e.Provider))
	}
	if e.Values != nil {
		add(slog.Any("values", e.Values))
		add(slog.Duration("ttl", e.TTL))
	}
	if e.Reason != "" {
		add(slog.String("reason", e.Reason))
	}
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
	case EventEndpointDown, EventAllDown, EventWriteFailed, EventDriftRepaired, EventPropagationSlow:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// eventQueue delivers events in order from one goroutine. push never
// blocks; the callback never runs under the queue's lock.
type eventQueue struct {
	mu     sync.Mutex
	queue  []Event
	closed bool
	wake   chan struct{} // capacity 1
}

func newEventQueue() *eventQueue { return &eventQueue{wake: make(chan struct{}, 1)} }

func (q *eventQueue) push(events ...Event) {
	if len(events) == 0 {
		return
	}
	q.mu.Lock()
	q.queue = append(q.queue, events...)
	q.mu.Unlock()
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
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// deliver calls f for every event until close, then returns.
func (q *eventQueue) deliver(f func(Event)) {
	for {
		q.mu.Lock()
		batch, closed := q.queue, q.closed
		q.queue = nil
		q.mu.Unlock()
		for _, e := range batch {
			f(e)
		}
		if closed && len(batch) == 0 {
			return
		}
		if len(batch) == 0 {
			<-q.wake
		}
	}
}
