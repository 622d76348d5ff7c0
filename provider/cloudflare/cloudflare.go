// Package cloudflare is a libdns provider for Cloudflare that the failover
// Manager can rely on. It wraps github.com/libdns/cloudflare v0.2.2 (for
// AppendRecords, DeleteRecords and ListZones) and replaces what would break
// failover:
//
//   - SetRecords replaces whole RRsets. Upstream handles input records one
//     by one, so setting two A values leaves only the last, and a name that
//     already has two values fails with "unexpectedly found more than 1
//     record" (libdns/cloudflare#31). Here, for each (name, type), the
//     missing values are created first, values whose TTL changes are
//     patched, and stale values are deleted last, by ID, so the name is
//     never left empty.
//   - Requests are paced (4 per second, bursts of 100, by default) to stay
//     within Cloudflare's 1,200 requests per 5 minutes, and retried on 429
//     (all methods, honouring Retry-After) and on 5xx (GET, PATCH, DELETE:
//     a POST that failed may have been applied, so it is left to the
//     caller, who reads the zone back).
//   - GetRecords reads every page and survives a response without
//     result_info, which crashes upstream.
//   - The HTTP client has timeouts; upstream's default has none.
//   - MinTTL reports Cloudflare's TTL floor (60 s, 30 s on Enterprise), so
//     the Manager raises lower TTLs instead of having writes rejected.
//   - The token never appears in errors, logs or fmt output.
package cloudflare

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	upstream "github.com/libdns/cloudflare"
	"github.com/libdns/libdns"
	"golang.org/x/time/rate"
)

// DefaultEndpoint is Cloudflare's API.
const DefaultEndpoint = "https://api.cloudflare.com/client/v4"

// Provider is a Cloudflare DNS provider. Create it with New; it is safe for
// concurrent use.
type Provider struct {
	minTTL    time.Duration
	batchSize int
	endpoint  string
	token     string
	http      *retryClient
	up        *upstream.Provider

	mu    sync.Mutex
	zones map[string]string // zone FQDN -> Cloudflare zone ID
}

// Options adjust a Provider. The zero value is right for most accounts.
type Options struct {
	// ZoneToken is an optional Zone:Read token used to look zones up, when
	// the API token is scoped to one zone.
	ZoneToken string
	// Enterprise lowers the TTL floor to 30 s, as Enterprise zones allow.
	Enterprise bool
	// HTTPClient sends the requests. Nil means a client with a 30 s
	// timeout.
	HTTPClient *http.Client
	// Endpoint is the API's base URL. Empty means DefaultEndpoint; tests
	// point it at a fake.
	Endpoint string
	// MaxRetries is how many times a request is retried after a 429 or a
	// 5xx. Zero means 3; negative means none.
	MaxRetries int
	// MaxRetryWait caps one wait between retries, including a server's
	// Retry-After. Zero means 60 s.
	MaxRetryWait time.Duration
	// RequestsPerSecond paces the requests of this provider (retries
	// included), with bursts of up to Burst. Zero means 4 per second with
	// bursts of 100: Cloudflare allows 1,200 requests per 5 minutes per
	// token. Negative means no pacing.
	RequestsPerSecond float64
	// Burst is how many requests may go at once. Zero means 100.
	Burst int
	// BatchSize, when positive, makes SetRecords send its changes through
	// Cloudflare's batch endpoint (POST /zones/{id}/dns_records/batch, each
	// request applied atomically), at most BatchSize record changes per
	// request: a 500-record failover is then a few requests instead of a
	// thousand. Zero means per-record requests. The batch shape is tested
	// against this package's fake, not yet against the live API.
	BatchSize int
}

// New returns a provider that authenticates with apiToken (a scoped API
// token with Zone.DNS:Edit, not a global API key).
func New(apiToken string, opts Options) (*Provider, error) {
	if apiToken == "" {
		return nil, errors.New("cloudflare: empty API token")
	}
	endpoint := strings.TrimSuffix(opts.Endpoint, "/")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	if _, err := url.Parse(endpoint); err != nil {
		return nil, fmt.Errorf("cloudflare: endpoint %q: %w", opts.Endpoint, err)
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	retries := opts.MaxRetries
	switch {
	case retries == 0:
		retries = 3
	case retries < 0:
		retries = 0
	}
	wait := opts.MaxRetryWait
	if wait <= 0 {
		wait = 60 * time.Second
	}
	rc := &retryClient{client: client, endpoint: endpoint, maxRetries: retries, maxWait: wait}
	if opts.RequestsPerSecond >= 0 {
		perSecond, burst := opts.RequestsPerSecond, opts.Burst
		if perSecond == 0 {
			perSecond = 4
		}
		if burst <= 0 {
			burst = 100
		}
		rc.limit = rate.NewLimiter(rate.Limit(perSecond), burst)
	}
	p := &Provider{
		minTTL:   60 * time.Second,
		endpoint: endpoint,
		token:    apiToken,
		http:     rc,
		up:       &upstream.Provider{APIToken: apiToken, ZoneToken: opts.ZoneToken, HTTPClient: rc},
		zones:    map[string]string{},
	}
	if opts.Enterprise {
		p.minTTL = 30 * time.Second
	}
	p.batchSize = max(opts.BatchSize, 0)
	return p, nil
}

// Name returns "cloudflare", the provider's name in events and Status.
func (p *Provider) Name() string { return "cloudflare" }

// String returns the provider's name, never its token.
func (p *Provider) String() string { return "cloudflare" }

// GoString is String: fmt's %#v shows no token either.
func (p *Provider) GoString() string { return "cloudflare" }

// MinTTL returns the smallest TTL Cloudflare accepts for the zone (other
// than 1, "automatic"): 60 s, or 30 s for Enterprise.
func (p *Provider) MinTTL() time.Duration { return p.minTTL }

// GetRecords returns every record of zone (an FQDN with a trailing dot),
// reading every page. (Upstream's crashes on a response without
// result_info, and looks the zone up on its own.)
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	zoneID, err := p.zoneID(ctx, zone)
	if err != nil {
		return nil, err
	}
	recs, err := p.list(ctx, zoneID, "", "")
	if err != nil {
		return nil, p.wrap("listing records of", zone, err)
	}
	out := make([]libdns.Record, 0, len(recs))
	for _, r := range recs {
		data := r.Content
		switch r.Type {
		case "CNAME", "MX", "NS":
			data = strings.TrimSuffix(data, ".") + "."
		case "TXT":
			if len(data) >= 2 && strings.HasPrefix(data, `"`) && strings.HasSuffix(data, `"`) {
				data = data[1 : len(data)-1]
			}
		}
		if r.Type == "MX" && r.Priority != nil {
			data = fmt.Sprintf("%d %s", *r.Priority, data)
		}
		rr := libdns.RR{Name: libdns.RelativeName(r.Name, zone), TTL: time.Duration(r.TTL) * time.Second, Type: r.Type, Data: data}
		if typed, err := rr.Parse(); err == nil {
			out = append(out, typed)
		} else {
			out = append(out, rr)
		}
	}
	return out, nil
}

// AppendRecords creates recs in zone.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	out, err := p.up.AppendRecords(ctx, zone, recs)
	return out, p.wrap("creating records in", zone, err)
}

// DeleteRecords deletes the records of zone that match recs by name, type
// and value (Cloudflare ignores the TTL; an empty value deletes nothing).
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	out, err := p.up.DeleteRecords(ctx, zone, recs)
	return out, p.wrap("deleting records from", zone, err)
}

// ListZones returns the zones the token can see.
func (p *Provider) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	out, err := p.up.ListZones(ctx)
	return out, p.wrap("listing zones of", "the account", err)
}

// wrap names the operation and zone in err, and makes sure the token is
// not in it.
func (p *Provider) wrap(op, zone string, err error) error {
	if err == nil {
		return nil
	}
	msg := strings.ReplaceAll(err.Error(), p.token, "[token]")
	return fmt.Errorf("cloudflare: %s %s: %s", op, zone, msg)
}

// record is a DNS record in Cloudflare's API.
type record struct {
	ID       string  `json:"id,omitempty"`
	Type     string  `json:"type"`
	Name     string  `json:"name"`
	Content  string  `json:"content"`
	TTL      int     `json:"ttl"`
	Priority *uint16 `json:"priority,omitempty"`
}

// SetRecords makes zone hold exactly recs for every (name, type) pair of
// recs. With per-record requests, values whose TTL changes are patched,
// missing values are created, and stale values are deleted last, so a name
// is never empty on the way; it is not atomic: after an error the pairs may
// be partly replaced, so read the zone back before trying again. With
// BatchSize, each batch request is atomic.
func (p *Provider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	zoneID, err := p.zoneID(ctx, zone)
	if err != nil {
		return nil, err
	}
	type pair struct{ name, typ string }
	var order []pair
	want := map[pair][]record{}
	for _, r := range recs {
		rr := r.RR()
		k := pair{libdns.AbsoluteName(rr.Name, zone), rr.Type}
		if _, ok := want[k]; !ok {
			order = append(order, k)
		}
		want[k] = append(want[k], record{Type: rr.Type, Name: strings.TrimSuffix(k.name, "."), Content: content(rr), TTL: int(rr.TTL / time.Second)})
	}
	// One RRset: list it alone. Several: list the zone once (100 records a
	// page) rather than one request per RRset.
	held := map[pair][]record{}
	if len(order) > 1 {
		all, err := p.list(ctx, zoneID, "", "")
		if err != nil {
			return nil, p.wrap("listing records of", zone, err)
		}
		for _, r := range all {
			k := pair{strings.ToLower(r.Name) + ".", r.Type}
			held[k] = append(held[k], r)
		}
	}
	var out []libdns.Record
	var batch []change
	for _, k := range order {
		have := held[pair{strings.ToLower(k.name), k.typ}]
		if len(order) == 1 {
			var err error
			if have, err = p.list(ctx, zoneID, k.typ, k.name); err != nil {
				return out, p.wrap("reading "+k.name+" "+k.typ+" in", zone, err)
			}
		}
		c := diff(have, want[k])
		if p.batchSize > 0 {
			batch = append(batch, c)
		} else if err := p.apply(ctx, zoneID, c); err != nil {
			return out, p.wrap("writing "+k.name+" "+k.typ+" in", zone, err)
		}
		for _, r := range recs {
			if rr := r.RR(); libdns.AbsoluteName(rr.Name, zone) == k.name && rr.Type == k.typ {
				out = append(out, r)
			}
		}
	}
	if err := p.applyBatches(ctx, zoneID, batch); err != nil {
		return nil, p.wrap("writing a batch to", zone, err)
	}
	return out, nil
}

// change is what turns one RRset into the wanted one.
type change struct {
	patches []record // held values whose TTL changes (with their ID)
	posts   []record // wanted values not held
	deletes []record // held values not wanted
}

func (c change) size() int { return len(c.patches) + len(c.posts) + len(c.deletes) }

// diff compares the records held for one RRset with the wanted ones.
func diff(have, want []record) change {
	var c change
	for _, h := range have {
		i := indexContent(want, h.Content)
		switch {
		case i < 0:
			c.deletes = append(c.deletes, h)
		case h.TTL != want[i].TTL:
			w := want[i]
			c.patches = append(c.patches, record{ID: h.ID, Type: w.Type, Name: w.Name, Content: w.Content, TTL: w.TTL})
		}
	}
	for _, w := range want {
		if indexContent(have, w.Content) < 0 {
			c.posts = append(c.posts, w)
		}
	}
	return c
}

// apply makes one RRset change with per-record requests: patches, then
// creations, then deletions, so the name is never empty on the way.
func (p *Provider) apply(ctx context.Context, zoneID string, c change) error {
	for _, r := range c.patches {
		if err := p.call(ctx, http.MethodPatch, "/zones/"+zoneID+"/dns_records/"+r.ID, record{Type: r.Type, Name: r.Name, Content: r.Content, TTL: r.TTL}, nil); err != nil {
			return err
		}
	}
	for _, r := range c.posts {
		if err := p.call(ctx, http.MethodPost, "/zones/"+zoneID+"/dns_records", r, nil); err != nil {
			return err
		}
	}
	for _, r := range c.deletes {
		if err := p.call(ctx, http.MethodDelete, "/zones/"+zoneID+"/dns_records/"+r.ID, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// applyBatches sends the changes through the batch endpoint, each request
// atomic on Cloudflare's side, never splitting an RRset's change between
// two requests (unless it alone is larger than a batch).
func (p *Provider) applyBatches(ctx context.Context, zoneID string, changes []change) error {
	type id struct {
		ID string `json:"id"`
	}
	var body struct {
		Deletes []id     `json:"deletes,omitempty"`
		Patches []record `json:"patches,omitempty"`
		Posts   []record `json:"posts,omitempty"`
	}
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		err := p.call(ctx, http.MethodPost, "/zones/"+zoneID+"/dns_records/batch", body, nil)
		body.Deletes, body.Patches, body.Posts, n = nil, nil, nil, 0
		return err
	}
	for _, c := range changes {
		if n > 0 && n+c.size() > p.batchSize {
			if err := flush(); err != nil {
				return err
			}
		}
		for _, r := range c.deletes {
			body.Deletes = append(body.Deletes, id{r.ID})
		}
		body.Patches = append(body.Patches, c.patches...)
		body.Posts = append(body.Posts, c.posts...)
		n += c.size()
	}
	return flush()
}

// content is the record's value as Cloudflare stores it.
func content(rr libdns.RR) string {
	switch rr.Type {
	case "CNAME", "MX", "NS":
		return strings.TrimSuffix(rr.Data, ".")
	case "A", "AAAA":
		if ip, err := netip.ParseAddr(rr.Data); err == nil {
			return ip.String()
		}
	}
	return rr.Data
}

func indexContent(recs []record, c string) int {
	for i, r := range recs {
		if strings.EqualFold(r.Content, c) {
			return i
		}
	}
	return -1
}

// zoneID looks the zone up once and remembers its ID.
func (p *Provider) zoneID(ctx context.Context, zone string) (string, error) {
	p.mu.Lock()
	id, ok := p.zones[zone]
	p.mu.Unlock()
	if ok {
		return id, nil
	}
	var zones []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := p.call(ctx, http.MethodGet, "/zones?name="+url.QueryEscape(strings.TrimSuffix(zone, ".")), nil, &zones); err != nil {
		return "", p.wrap("looking up zone", zone, err)
	}
	if len(zones) != 1 {
		return "", fmt.Errorf("cloudflare: looking up zone %s: %d zones match, want 1", zone, len(zones))
	}
	p.mu.Lock()
	p.zones[zone] = zones[0].ID
	p.mu.Unlock()
	return zones[0].ID, nil
}

// list returns the records of one (name, type), or of the whole zone when
// both are empty, reading every page.
func (p *Provider) list(ctx context.Context, zoneID, typ, name string) ([]record, error) {
	var all []record
	for page := 1; ; page++ {
		q := url.Values{"page": {fmt.Sprint(page)}, "per_page": {"100"}}
		if typ != "" {
			q.Set("type", typ)
			q.Set("name", strings.TrimSuffix(name, "."))
		}
		var recs []record
		info, err := p.callInfo(ctx, http.MethodGet, "/zones/"+zoneID+"/dns_records?"+q.Encode(), nil, &recs)
		if err != nil {
			return nil, err
		}
		all = append(all, recs...)
		if info == nil || len(recs) == 0 || page*info.PerPage >= info.TotalCount {
			return all, nil
		}
	}
}

type resultInfo struct {
	PerPage    int `json:"per_page"`
	TotalCount int `json:"total_count"`
}

func (p *Provider) call(ctx context.Context, method, path string, body, result any) error {
	_, err := p.callInfo(ctx, method, path, body, result)
	return err
}

// callInfo sends one API request and decodes the envelope.
func (p *Provider) callInfo(ctx context.Context, method, path string, body, result any) (*resultInfo, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, DefaultEndpoint+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var env struct {
		Success bool            `json:"success"`
		Result  json.RawMessage `json:"result"`
		Errors  []struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
		ResultInfo *resultInfo `json:"result_info"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&env); err != nil {
		return nil, fmt.Errorf("%s %s: HTTP %d: decoding the response: %w", method, strings.SplitN(path, "?", 2)[0], resp.StatusCode, err)
	}
	if resp.StatusCode >= 400 || !env.Success {
		var msgs []string
		for _, e := range env.Errors {
			msgs = append(msgs, fmt.Sprintf("%d %s", e.Code, e.Message))
		}
		return nil, fmt.Errorf("%s %s: HTTP %d: %s", method, strings.SplitN(path, "?", 2)[0], resp.StatusCode, strings.Join(msgs, "; "))
	}
	if result != nil && len(env.Result) > 0 {
		if err := json.Unmarshal(env.Result, result); err != nil {
			return nil, err
		}
	}
	return env.ResultInfo, nil
}
