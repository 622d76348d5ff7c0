// Package notify sends webhook notifications for a failover Manager's
// events: a generic JSON payload, or Slack- and Discord-compatible ones.
// Observe never blocks, so a slow or failing webhook never delays the
// Manager; deliveries are retried with backoff.
//
// It notifies changes only: a decision that keeps the record's values
// (the first decision at start-up when DNS already held them, a TTL
// change) is not sent, and a provider that keeps failing is sent once,
// at its first failed call, and once more when it recovers.
//
//	n, err := notify.New(notify.Webhook{URL: slackURL, Format: notify.Slack})
//	if err != nil {
//		return err
//	}
//	cfg.OnEvent = n.Observe
//	m, err := failover.New(cfg)
//	…
//	n.SetSource(m.Status) // to see a provider recover without a write
//	go n.Run(ctx)
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dnsfailover/failover"
)

// Format is the shape of a webhook's payload.
type Format int

const (
	// Generic posts the event as JSON (see Payload).
	Generic Format = iota
	// Slack posts {"text": "..."} for a Slack incoming webhook.
	Slack
	// Discord posts {"content": "..."} for a Discord webhook.
	Discord
)

var formatNames = [...]string{"generic", "slack", "discord"}

// String returns "generic", "slack" or "discord", or "Format(N)" for a
// value that is none of them.
func (f Format) String() string {
	if f < 0 || int(f) >= len(formatNames) {
		return fmt.Sprintf("Format(%d)", int(f))
	}
	return formatNames[f]
}

// MarshalText encodes f as its String form.
func (f Format) MarshalText() ([]byte, error) {
	if f < 0 || int(f) >= len(formatNames) {
		return nil, fmt.Errorf("notify: unknown format %d", int(f))
	}
	return []byte(f.String()), nil
}

// UnmarshalText decodes "generic", "slack" or "discord" (lower case, as
// String writes them); anything else is an error.
func (f *Format) UnmarshalText(b []byte) error {
	for i, n := range formatNames {
		if n == string(b) {
			*f = Format(i)
			return nil
		}
	}
	return fmt.Errorf("notify: unknown format %q, want generic, slack or discord", shorten(string(b)))
}

// DefaultKinds are the events worth waking someone for: a record changed
// (failover, failback), all endpoints down, a provider failing (and
// recovering), an operator override set or ended.
var DefaultKinds = []failover.EventKind{failover.EventRecordDecided, failover.EventAllDown, failover.EventProviderCallFailed,
	failover.EventOverrideSet, failover.EventOverrideEnded}

// KindProviderRecovered is the Payload kind of the notification that a
// provider failing for a zone answered again. It goes to the webhooks
// that want EventProviderCallFailed.
const KindProviderRecovered = "provider-recovered"

// Webhook is one destination.
type Webhook struct {
	// URL receives a POST per event: an absolute http or https URL. It
	// is treated as a secret (chat webhooks carry their token in it):
	// errors and logs name its scheme and host only.
	URL string
	// Format of the payload: Generic (the zero value), Slack or Discord.
	Format Format
	// Kinds to send. Nil means DefaultKinds.
	Kinds []failover.EventKind
	// Client sends the requests. Nil means a client with a 10 s timeout
	// that follows no redirect: a 3xx answer is a failed delivery (Go's
	// client would follow a 301 or 302 with a GET and no body, and the
	// payload would be lost while the delivery looked done).
	Client *http.Client
	// MaxRetries after a failed delivery (network error or non-2xx). Zero
	// means 3; it must not be negative.
	MaxRetries int
}

// validate returns what is wrong with h, the i-th webhook.
func (h Webhook) validate(i int) error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("notify: webhook %d: %s: %s", i, field, fmt.Sprintf(format, args...)))
	}
	switch u, err := url.Parse(h.URL); {
	case h.URL == "":
		add("URL", "empty")
	case err != nil:
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the whole URL, a secret
		}
		add("URL", "%v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		if u.Scheme == "" {
			add("URL", "not an absolute URL: want http or https")
		} else {
			add("URL", "scheme %q, want http or https", u.Scheme)
		}
	case u.Host == "":
		add("URL", "no host")
	}
	switch h.Format {
	case Generic, Slack, Discord:
	default:
		add("Format", "unknown format %d", int(h.Format))
	}
	if h.MaxRetries < 0 {
		add("MaxRetries", "%d is negative", h.MaxRetries)
	}
	return errors.Join(errs...)
}

// redactedURL is h's URL without its path, query and user: what errors
// may show of it.
func (h Webhook) redactedURL() string {
	u, err := url.Parse(h.URL)
	if err != nil {
		return "webhook"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// Payload is the Generic format's body.
type Payload struct {
	Kind      string    `json:"kind"`
	Time      time.Time `json:"time"`
	Zone      string    `json:"zone"`
	Record    string    `json:"record,omitempty"` // empty for provider-call-failed, which is about the zone
	Endpoint  string    `json:"endpoint,omitempty"`
	Provider  string    `json:"provider,omitempty"`
	Operation string    `json:"operation,omitempty"` // the provider call that failed: get, set or delete
	Values    []string  `json:"values,omitempty"`
	Previous  []string  `json:"previous,omitempty"`
	TTL       float64   `json:"ttl_seconds,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Error     string    `json:"error,omitempty"`
	DryRun    bool      `json:"dry_run,omitempty"`
	Text      string    `json:"text"`
}

// Notifier queues events and delivers them. Create it with New.
type Notifier struct {
	hooks   []Webhook
	queue   chan note
	dropped atomic.Int64
	failed  atomic.Int64

	onFailure func(Failure)
	source    func() failover.Status

	mu      sync.Mutex
	failing map[providerKey]failover.Event // the first failed call of each provider failing now
	// carried are the providers failing when the source changed (a new
	// Manager, whose count of failed calls starts again at 1): their next
	// failed call continues the run.
	carried map[providerKey]bool
}

// note is one notification: an event, or a provider's recovery.
type note struct {
	failover.Event
	recovered bool      // the provider of Event (its first failed call) recovered
	at        time.Time // when it was seen to recover
}

// providerKey is one provider of one zone.
type providerKey struct{ zone, provider string }

// Failure is a notification that did not reach a webhook.
type Failure struct {
	// Webhook is the destination, as its scheme and host only (its URL
	// is a secret).
	Webhook string
	// Kind is the notification's Payload kind, such as "record-decided".
	Kind string
	// Dropped is true when the notification was dropped: a queue was full
	// (Err nil), or Run stopped before delivering it (Err the context's
	// error). Otherwise the delivery failed after every retry, with Err.
	Dropped bool
	Err     error
}

// RecoveryCheck is how often Run looks at the Status source (see
// SetSource) for providers that recovered without a write.
const RecoveryCheck = 5 * time.Second

// QueueSize is how many events wait for delivery before Observe drops
// new ones.
const QueueSize = 1024

// New returns a Notifier for hooks, or every problem with them (each
// naming the webhook by position and the field). It copies hooks: later
// changes to the caller's values or slices have no effect, and New never
// writes into them.
func New(hooks ...Webhook) (*Notifier, error) {
	var errs []error
	own := make([]Webhook, len(hooks))
	for i, h := range hooks {
		if err := h.validate(i); err != nil {
			errs = append(errs, err)
			continue
		}
		if h.Kinds == nil {
			h.Kinds = DefaultKinds
		}
		h.Kinds = slices.Clone(h.Kinds)
		if h.Client == nil {
			h.Client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		}
		if h.MaxRetries == 0 {
			h.MaxRetries = 3
		}
		own[i] = h
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Notifier{hooks: own, queue: make(chan note, QueueSize), failing: map[providerKey]failover.Event{}}, nil
}

// OnFailure sets f to be told of every notification dropped or failed
// (see Failure), from the goroutines of Observe and Run: f must be quick
// and safe for concurrent use. Call it before Observe and Run.
func (n *Notifier) OnFailure(f func(Failure)) { n.onFailure = f }

// SetSource sets where Run looks, every RecoveryCheck while a provider is
// failing, for its recovery: a read or a write that succeeded after its
// last error. Without it, a recovery is noticed at the provider's next
// write only. Usually Manager.Status; call it before Run.
// It is safe to call while Run runs: a daemon that replaces its Manager
// keeps its Notifier and sets the new Manager's Status, and then the
// first failed call of a provider already failing, counted 1 by the new
// Manager, continues the run instead of starting one.
func (n *Notifier) SetSource(status func() failover.Status) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.source != nil {
		n.carry()
	}
	n.source = status
}

// carry marks the providers failing now as carried; n.mu is held.
func (n *Notifier) carry() {
	n.carried = map[providerKey]bool{}
	for k := range n.failing {
		n.carried[k] = true
	}
}

// CarryFailures makes n know the providers prev knows to be failing, so
// that a Notifier replacing prev (new webhooks) does not notify again a
// failure prev notified. Call it before Observe and Run.
func (n *Notifier) CarryFailures(prev *Notifier) {
	prev.mu.Lock()
	failing := maps.Clone(prev.failing)
	prev.mu.Unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	maps.Copy(n.failing, failing)
	n.carry()
}

// Observe queues e for the webhooks that want it, unless it is no change:
// a record-decided event whose Values are its Previous values (in any
// order), or a provider-call-failed event of a provider already failing
// (after its first failed call, only its recovery is sent: on a
// record-written or drift-repaired event of that provider, or as
// SetSource says). It never blocks: when the queue is full the event is
// dropped and counted (Dropped).
func (n *Notifier) Observe(e failover.Event) {
	switch e.Kind {
	case failover.EventRecordDecided:
		if sameSet(e.Values, e.Previous) {
			return
		}
	case failover.EventProviderCallFailed:
		if !n.firstFailure(e) {
			return
		}
	case failover.EventRecordWritten, failover.EventDriftRepaired:
		if first, ok := n.recovered(providerKey{e.Zone, e.Provider}); ok {
			n.enqueue(note{Event: first, recovered: true, at: e.Time})
		}
	}
	n.enqueue(note{Event: e})
}

// firstFailure notes a failed call and reports whether it starts a run of
// failures: the provider was not failing, or its count restarted at 1
// after a success that was not noticed.
func (n *Notifier) firstFailure(e failover.Event) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := providerKey{e.Zone, e.Provider}
	carried := n.carried[k]
	delete(n.carried, k)
	if _, failing := n.failing[k]; failing && (e.Failures != 1 || carried) {
		return false
	}
	n.failing[k] = e
	return true
}

// recovered ends the failing run of k, returning its first failure.
func (n *Notifier) recovered(k providerKey) (failover.Event, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	first, ok := n.failing[k]
	delete(n.failing, k)
	delete(n.carried, k)
	return first, ok
}

// enqueue queues nt if a webhook wants it.
func (n *Notifier) enqueue(nt note) {
	if !slices.ContainsFunc(n.hooks, func(h Webhook) bool { return h.wants(nt) }) {
		return
	}
	select {
	case n.queue <- nt:
	default:
		n.drop("queue", nt)
	}
}

func (h Webhook) wants(nt note) bool { return slices.Contains(h.Kinds, nt.Kind) }

// drop counts and reports a notification dropped on its way to webhook.
func (n *Notifier) drop(webhook string, nt note) {
	n.dropped.Add(1)
	if n.onFailure != nil {
		n.onFailure(Failure{Webhook: webhook, Kind: nt.kind(), Dropped: true})
	}
}

// kind is nt's Payload kind.
func (nt note) kind() string {
	if nt.recovered {
		return KindProviderRecovered
	}
	return nt.Kind.String()
}

// checkRecoveries sends the recovery of each failing provider that the
// source shows read or written since its last error.
func (n *Notifier) checkRecoveries() {
	n.mu.Lock()
	idle, source := len(n.failing) == 0, n.source
	n.mu.Unlock()
	if idle || source == nil {
		return
	}
	for _, z := range source().Zones {
		for _, p := range z.Providers {
			if !p.LastRead.After(p.LastErrorAt) && !p.LastWrite.After(p.LastErrorAt) {
				continue
			}
			if first, ok := n.recovered(providerKey{z.Name, p.Name}); ok {
				n.enqueue(note{Event: first, recovered: true, at: time.Now()})
			}
		}
	}
}

// sameSet reports whether a and b hold the same values, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, v := range a {
		if !slices.Contains(b, v) {
			return false
		}
	}
	return true
}

// Dropped returns how many notifications were dropped: a queue was full,
// or Run stopped before delivering them.
func (n *Notifier) Dropped() int64 { return n.dropped.Load() }

// Failed returns how many deliveries failed after every retry.
func (n *Notifier) Failed() int64 { return n.failed.Load() }

// Run delivers queued events until ctx ends; each webhook gets them in
// order, and the webhooks are served concurrently. A delivery that fails
// after every retry is counted (Failed) and reported to OnFailure's
// function. When ctx ends, every notification not delivered yet (queued,
// or cut while being sent or retried) is counted as dropped (Dropped) and
// reported with the context's error: none is lost silently.
func (n *Notifier) Run(ctx context.Context) error {
	queues := make([]chan note, len(n.hooks))
	var wg sync.WaitGroup
	for i, h := range n.hooks {
		queues[i] = make(chan note, QueueSize)
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					for {
						select {
						case nt := <-queues[i]:
							n.stopped(ctx, h, nt)
						default:
							return
						}
					}
				case nt := <-queues[i]:
					switch err := h.deliver(ctx, nt); {
					case err == nil:
					case ctx.Err() != nil:
						n.stopped(ctx, h, nt)
					default:
						n.failed.Add(1)
						if n.onFailure != nil {
							n.onFailure(Failure{Webhook: h.redactedURL(), Kind: nt.kind(), Err: err})
						}
					}
				}
			}
		})
	}
	defer wg.Wait()
	tick := time.NewTicker(RecoveryCheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case nt := <-n.queue:
					for _, h := range n.hooks {
						if h.wants(nt) {
							n.stopped(ctx, h, nt)
						}
					}
				default:
					return nil
				}
			}
		case <-tick.C:
			n.checkRecoveries()
		case nt := <-n.queue:
			for i, h := range n.hooks {
				if h.wants(nt) {
					select {
					case queues[i] <- nt:
					default:
						n.drop(h.redactedURL(), nt)
					}
				}
			}
		}
	}
}

// stopped counts and reports nt, not delivered to h because Run stopped.
func (n *Notifier) stopped(ctx context.Context, h Webhook, nt note) {
	n.dropped.Add(1)
	if n.onFailure != nil {
		n.onFailure(Failure{Webhook: h.redactedURL(), Kind: nt.kind(), Dropped: true, Err: ctx.Err()})
	}
}

// deliver posts nt, retrying with exponential backoff.
func (h Webhook) deliver(ctx context.Context, nt note) error {
	body, err := h.body(nt)
	if err != nil {
		return err
	}
	wait := 500 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err = h.post(ctx, body)
		if err == nil || attempt >= h.MaxRetries || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait *= 2
	}
}

func (h Webhook) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notify: %s: %w", h.redactedURL(), unwrapURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.Client.Do(req)
	if err != nil {
		return fmt.Errorf("notify: %s: %w", h.redactedURL(), unwrapURL(err))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("notify: %s answered %s", h.redactedURL(), resp.Status)
	}
	return nil
}

// unwrapURL drops the *url.Error around err, whose message holds the whole
// URL (a secret); errors.Is still sees the cause, such as
// context.DeadlineExceeded.
func unwrapURL(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Errorf("%s: %w", uerr.Op, uerr.Err)
	}
	return err
}

// shorten keeps user input short enough for an error message.
func shorten(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// body renders nt in the webhook's format.
func (h Webhook) body(nt note) ([]byte, error) {
	e := nt.Event
	text := Text(e)
	if nt.recovered {
		text = fmt.Sprintf("%s for zone %s recovered (failing since %s: %v)", e.Provider, e.Zone, e.Time.UTC().Format(time.RFC3339), e.Err)
		if e.DryRun {
			text = "[dry run] " + text
		}
	}
	switch h.Format {
	case Slack:
		return json.Marshal(map[string]string{"text": text})
	case Discord:
		return json.Marshal(map[string]string{"content": text})
	case Generic:
	default:
		return nil, fmt.Errorf("notify: unknown format %d", int(h.Format))
	}
	at := e.Time
	if nt.recovered {
		at = nt.at
	}
	p := Payload{Kind: nt.kind(), Time: at, Zone: e.Zone, Endpoint: e.Endpoint, Provider: e.Provider,
		Values: e.Values, Previous: e.Previous, TTL: e.TTL.Seconds(), Reason: e.Reason, DryRun: e.DryRun, Text: text}
	if e.Record != (failover.RecordID{}) {
		p.Record = e.Record.String()
	}
	if e.Operation != failover.OpNone {
		p.Operation = e.Operation.String()
	}
	if e.Err != nil {
		p.Error = e.Err.Error()
	}
	return json.Marshal(p)
}

// Text is a one-line human summary of e, as sent to chat webhooks.
func Text(e failover.Event) string {
	var b strings.Builder
	if e.DryRun {
		b.WriteString("[dry run] ")
	}
	switch e.Kind {
	case failover.EventRecordDecided:
		fmt.Fprintf(&b, "%s now points to %s (was %s): %s", e.Record, strings.Join(e.Values, ", "), strings.Join(e.Previous, ", "), e.Reason)
	case failover.EventAllDown:
		fmt.Fprintf(&b, "ALL endpoints of %s are down: %s", e.Record, e.Reason)
	case failover.EventProviderCallFailed:
		fmt.Fprintf(&b, "%s call for zone %s on %s failed (%d in a row): %v", e.Operation, e.Zone, e.Provider, e.Failures, e.Err)
	default:
		b.WriteString(e.String())
	}
	return b.String()
}
