// Package powerdns is a libdns provider for the PowerDNS Authoritative
// Server's HTTP API (/api/v1) that the failover Manager can rely on. It
// replaces github.com/libdns/powerdns v0.1.4, which looks the zone up and
// then sends one PATCH per RRset (a 500-record failover was 501 requests,
// applied one RRset at a time), returns TXT values with their quotes, and
// reports success for a delete that matched nothing. Here:
//
//   - SetRecords is one PATCH of the zone carrying every RRset of the
//     write (REPLACE); AppendRecords and DeleteRecords are one GET of the
//     zone and one PATCH. PowerDNS applies a PATCH in one transaction. A
//     write whose JSON body would exceed MaxBody is sent as several
//     PATCHes, every RRset whole in one.
//   - TXT values are raw text both ways (quoted and escaped for the API).
//   - Domain names in values (the target of a CNAME, DNAME, NS, PTR, MX,
//     SRV, SVCB or HTTPS) are sent fully qualified: "lb.example.net" is
//     sent as "lb.example.net." (PowerDNS refuses a name without its
//     trailing dot, 422 "Not in expected format").
//   - TTL 0 is sent as 0 (not left out, which PowerDNS refuses).
//   - DeleteRecords honours libdns's wildcards (empty type, zero TTL,
//     empty value) and returns what it deleted.
//   - Writes through one Provider are serialised: PowerDNS with the SQLite
//     backend answers concurrent writes with 500 ("database is locked").
//   - Any status but 2xx is an error (an *APIError). PowerDNS answers 422
//     when it refuses the content of a PATCH; PowerDNS 4.7.3 with the
//     SQLite backend then applies none of it (the tests show it), but
//     libdns promises nothing after an error, and the Manager reads the
//     zone back before writing again.
//
// Disabled records are not served, so GetRecords does not return them;
// AppendRecords and DeleteRecords keep them in their RRsets.
package powerdns

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"
)

// DefaultTimeout bounds each request when Options.HTTPClient is nil.
const DefaultTimeout = 30 * time.Second

// MaxBody is the largest PATCH body sent, in bytes: half of PowerDNS's
// default webserver-max-bodysize (2 MB).
const MaxBody = 1 << 20

// Options adjust a Provider. The zero value is PowerDNS's defaults.
type Options struct {
	// ServerID is the API's server id. Empty means "localhost", the only
	// one PowerDNS Authoritative has.
	ServerID string
	// HTTPClient sends the requests. Nil means a client with
	// DefaultTimeout.
	HTTPClient *http.Client
}

// Provider talks to one PowerDNS API. Create it with New; it is safe for
// concurrent use.
type Provider struct {
	base   string // http://host:port/api/v1/servers/ID
	apiKey string
	client *http.Client

	mu sync.Mutex // serialises writes
}

// New returns a provider for the API at serverURL (such as
// "http://127.0.0.1:8081"), authenticated with apiKey. It makes no request.
func New(serverURL, apiKey string, opts Options) (*Provider, error) {
	u, err := url.Parse(serverURL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("powerdns: server URL %q: %w", serverURL, err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return nil, fmt.Errorf("powerdns: server URL %q: want http:// or https:// and a host", serverURL)
	case apiKey == "":
		return nil, errors.New("powerdns: the API key is empty")
	}
	id := opts.ServerID
	if id == "" {
		id = "localhost"
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	return &Provider{
		base:   strings.TrimSuffix(serverURL, "/") + "/api/v1/servers/" + url.PathEscape(id),
		apiKey: apiKey,
		client: client,
	}, nil
}

// String names the API, never its key.
func (p *Provider) String() string { return "powerdns " + p.base }

// GoString is String: fmt's %#v shows no key either.
func (p *Provider) GoString() string { return p.String() }

// APIError is a response of the API other than 2xx.
type APIError struct {
	Status  int    // HTTP status, such as 422
	Message string // the API's "error" field, or the body
}

// Error returns the status and the API's message.
func (e *APIError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// rrset and record are the API's JSON shapes. TTL is always sent: 0 is a
// TTL (RFC 2181 section 8, "do not cache"), and PowerDNS refuses a
// REPLACE without one (422 "Key 'ttl' not an Integer or not present").
type rrset struct {
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	TTL        int      `json:"ttl"`
	ChangeType string   `json:"changetype,omitempty"`
	Records    []record `json:"records"`
}

type record struct {
	Content  string `json:"content"`
	Disabled bool   `json:"disabled"`
}

// zonePath is the API path of zone: its id is its name, with "/" as "=2F".
func (p *Provider) zonePath(zone string) string {
	return p.base + "/zones/" + url.PathEscape(strings.ReplaceAll(zone, "/", "=2F"))
}

// do sends one request and decodes a JSON answer into out (unless nil).
func (p *Provider) do(ctx context.Context, method, url string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", p.apiKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return &APIError{Status: resp.StatusCode, Message: msg}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding the answer to %s %s: %w", method, url, err)
	}
	return nil
}

// zone reads zone's RRsets.
func (p *Provider) zone(ctx context.Context, zone string) ([]rrset, error) {
	if !strings.HasSuffix(zone, ".") {
		return nil, fmt.Errorf("powerdns: zone %q has no trailing dot", zone)
	}
	var z struct {
		RRsets []rrset `json:"rrsets"`
	}
	if err := p.do(ctx, http.MethodGet, p.zonePath(zone), nil, &z); err != nil {
		return nil, fmt.Errorf("powerdns: reading zone %s: %w", zone, err)
	}
	return z.RRsets, nil
}

// GetRecords returns every served (not disabled) record of zone.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	sets, err := p.zone(ctx, zone)
	if err != nil {
		return nil, err
	}
	var out []libdns.Record
	for _, s := range sets {
		for _, r := range s.Records {
			if r.Disabled {
				continue
			}
			rec, err := fromAPI(s, r.Content, zone)
			if err != nil {
				return nil, fmt.Errorf("powerdns: reading zone %s: %w", zone, err)
			}
			out = append(out, rec)
		}
	}
	return out, nil
}

// SetRecords replaces, for each (name, type) of recs, the RRset in zone by
// the records of recs with that pair, in one PATCH (one per MaxBody); other
// RRsets are untouched. An RRset's TTL is its first record's. It returns
// recs.
func (p *Provider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	sets, err := group(zone, recs)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.patch(ctx, zone, "setting", sets); err != nil {
		return nil, err
	}
	return recs, nil
}

// AppendRecords adds recs to zone, keeping the records already there (and
// an existing RRset's TTL), in one GET and one PATCH. It returns recs.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	add, err := group(zone, recs)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	have, err := p.zone(ctx, zone)
	if err != nil {
		return nil, err
	}
	for i, s := range add {
		old, ok := find(have, s.Name, s.Type)
		if !ok {
			continue
		}
		merged := append([]record(nil), old.Records...)
		for _, r := range s.Records {
			if !hasContent(merged, r.Content) {
				merged = append(merged, r)
			}
		}
		add[i].Records, add[i].TTL = merged, old.TTL
	}
	if err := p.patch(ctx, zone, "appending to", add); err != nil {
		return nil, err
	}
	return recs, nil
}

// DeleteRecords deletes from zone the records that match recs, in one GET
// and one PATCH, and returns them. A record matches on name and, unless
// left empty (zero), on type, TTL and value, as libdns specifies. The SOA
// is never deleted.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	var pats []libdns.RR
	for i, r := range recs {
		if r == nil {
			return nil, fmt.Errorf("powerdns: deleting from zone %s: record %d is nil", zone, i)
		}
		pats = append(pats, r.RR())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	have, err := p.zone(ctx, zone)
	if err != nil {
		return nil, err
	}
	var change []rrset
	var gone []libdns.Record
	for _, s := range have {
		if s.Type == "SOA" {
			continue
		}
		keep := []record{}
		for _, r := range s.Records {
			rec, err := fromAPI(s, r.Content, zone)
			if err != nil || r.Disabled || !matchesAny(pats, rec.RR()) {
				keep = append(keep, r)
				continue
			}
			gone = append(gone, rec)
		}
		switch {
		case len(keep) == len(s.Records):
		case len(keep) == 0:
			change = append(change, rrset{Name: s.Name, Type: s.Type, ChangeType: "DELETE", Records: []record{}})
		default:
			change = append(change, rrset{Name: s.Name, Type: s.Type, TTL: s.TTL, ChangeType: "REPLACE", Records: keep})
		}
	}
	if err := p.patch(ctx, zone, "deleting from", change); err != nil {
		return nil, err
	}
	return gone, nil
}

// patch sends sets to zone in as few PATCHes as MaxBody allows, in order,
// and stops at the first failure.
func (p *Provider) patch(ctx context.Context, zone, op string, sets []rrset) error {
	if len(sets) == 0 {
		return ctx.Err()
	}
	if !strings.HasSuffix(zone, ".") {
		return fmt.Errorf("powerdns: zone %q has no trailing dot", zone)
	}
	var batches [][]rrset
	size := 0
	for _, s := range sets {
		b, err := json.Marshal(s)
		if err != nil {
			return fmt.Errorf("powerdns: %s zone %s: %w", op, zone, err)
		}
		if len(batches) == 0 || size+len(b)+1 > MaxBody {
			batches, size = append(batches, nil), len(`{"rrsets":[]}`)
		}
		batches[len(batches)-1] = append(batches[len(batches)-1], s)
		size += len(b) + 1
	}
	for i, batch := range batches {
		err := p.do(ctx, http.MethodPatch, p.zonePath(zone), map[string][]rrset{"rrsets": batch}, nil)
		if err == nil {
			continue
		}
		where := ""
		if len(batches) > 1 {
			where = fmt.Sprintf(" (PATCH %d of %d; the %d before it were applied)", i+1, len(batches), i)
		}
		return fmt.Errorf("powerdns: %s zone %s%s: %w", op, zone, where, err)
	}
	return nil
}

func find(sets []rrset, name, typ string) (rrset, bool) {
	for _, s := range sets {
		if strings.EqualFold(s.Name, name) && s.Type == typ {
			return s, true
		}
	}
	return rrset{}, false
}

func hasContent(recs []record, content string) bool {
	for _, r := range recs {
		if r.Content == content {
			return true
		}
	}
	return false
}

var (
	_ libdns.RecordGetter   = (*Provider)(nil)
	_ libdns.RecordSetter   = (*Provider)(nil)
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
)
