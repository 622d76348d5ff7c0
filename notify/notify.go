// Package notify sends webhook notifications for a failover Manager's
// events: a generic JSON payload, or Slack- and Discord-compatible ones.
// Observe never blocks, so a slow or failing webhook never delays the
// Manager; deliveries are retried with backoff.
//
//	n := notify.New(notify.Webhook{URL: slackURL, Format: notify.Slack})
//	cfg.OnEvent = n.Observe
//	go n.Run(ctx)
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

// DefaultKinds are the events worth waking someone for: a record changed
// (failover, failback), all endpoints down, a provider failing.
var DefaultKinds = []failover.EventKind{failover.EventRecordDecided, failover.EventAllDown, failover.EventProviderCallFailed}

// Webhook is one destination.
type Webhook struct {
	URL    string
	Format Format
	// Kinds to send. Nil means DefaultKinds.
	Kinds []failover.EventKind
	// Client sends the requests. Nil means a client with a 10 s timeout.
	Client *http.Client
	// MaxRetries after a failed delivery (network error or non-2xx). Zero
	// means 3.
	MaxRetries int
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
	queue   chan failover.Event
	dropped atomic.Int64
	failed  atomic.Int64
}

// QueueSize is how many events wait for delivery before Observe drops
// new ones.
const QueueSize = 1024

// New returns a Notifier for hooks.
func New(hooks ...Webhook) *Notifier {
	for i := range hooks {
		if hooks[i].Kinds == nil {
			hooks[i].Kinds = DefaultKinds
		}
		if hooks[i].Client == nil {
			hooks[i].Client = &http.Client{Timeout: 10 * time.Second}
		}
		if hooks[i].MaxRetries == 0 {
			hooks[i].MaxRetries = 3
		}
	}
	return &Notifier{hooks: hooks, queue: make(chan failover.Event, QueueSize)}
}

// Observe queues e for the webhooks that want it. It never blocks: when
// the queue is full the event is dropped and counted (Dropped).
func (n *Notifier) Observe(e failover.Event) {
	for _, h := range n.hooks {
		if slices.Contains(h.Kinds, e.Kind) {
			select {
			case n.queue <- e:
			default:
				n.dropped.Add(1)
			}
			return
		}
	}
}

// Dropped returns how many events were dropped because the queue was full.
func (n *Notifier) Dropped() int64 { return n.dropped.Load() }

// Failed returns how many deliveries failed after every retry.
func (n *Notifier) Failed() int64 { return n.failed.Load() }

// Run delivers queued events until ctx ends; each webhook gets them in
// order, and the webhooks are served concurrently.
func (n *Notifier) Run(ctx context.Context) error {
	queues := make([]chan failover.Event, len(n.hooks))
	var wg sync.WaitGroup
	for i, h := range n.hooks {
		queues[i] = make(chan failover.Event, QueueSize)
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case e := <-queues[i]:
					if err := h.deliver(ctx, e); err != nil {
						n.failed.Add(1)
					}
				}
			}
		})
	}
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-n.queue:
			for i, h := range n.hooks {
				if slices.Contains(h.Kinds, e.Kind) {
					select {
					case queues[i] <- e:
					default:
						n.dropped.Add(1)
					}
				}
			}
		}
	}
}

// deliver posts e, retrying with exponential backoff.
func (h Webhook) deliver(ctx context.Context, e failover.Event) error {
	body, err := h.body(e)
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
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("notify: %s answered %s", h.URL, resp.Status)
	}
	return nil
}

// body renders e in the webhook's format.
func (h Webhook) body(e failover.Event) ([]byte, error) {
	text := Text(e)
	switch h.Format {
	case Slack:
		return json.Marshal(map[string]string{"text": text})
	case Discord:
		return json.Marshal(map[string]string{"content": text})
	}
	p := Payload{Kind: e.Kind.String(), Time: e.Time, Zone: e.Zone, Endpoint: e.Endpoint, Provider: e.Provider,
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
