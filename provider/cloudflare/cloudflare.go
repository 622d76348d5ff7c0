// Package cloudflare is a libdns provider for Cloudflare that the failover
// Manager can rely on. It speaks Cloudflare's API v4 itself (no upstream
// libdns package: github.com/libdns/cloudflare v0.2.2 loses proxying,
// comments and tags on every change, cannot change a CNAME, and keeps one
// value of a multi-value RRset, libdns/cloudflare#31):
//
//   - SetRecords replaces whole RRsets by changing values in place: a value
//     that changes is a PATCH of the record it replaces, which keeps the
//     record's proxied, comment, tags and settings (an orange-cloud record
//     stays proxied, so the origin's address is never exposed). Records
//     are created or deleted only when the number of values changes, and
//     created ones copy proxied, comment, tags and settings from the
//     RRset's records. A CNAME is changed in place (Cloudflare refuses a
//     second record beside one, error 81053). Nothing is written for a
//     value already held: values compare exactly, TXT unquoted, MX with its
//     priority field, SRV, CAA, HTTPS and SVCB by their data object.
//   - Proxied records have an automatic TTL: Cloudflare reports TTL 1
//     whatever was sent. GetRecords reports them with TTL 1 s, and
//     AutomaticTTL tells the Manager that such a TTL is not its to manage,
//     so a proxied record is written when its values change, never for its
//     TTL. A DNS-only record on automatic reads as 300 s, what it is served
//     with.
//   - At most 1,200 requests go out in any 5 minutes (Cloudflare's limit
//     per user), retries included, whatever the burst. A 429 holds every
//     request of the provider until its Retry-After has passed (Cloudflare
//     blocks every call for 5 minutes after its limit is exceeded, by this
//     provider or by anything else using the token): a call that would
//     wait longer than MaxRetryWait fails at once with a *BlockedError and
//     sends nothing, so a blocked provider never hammers the API. 429 is
//     retried on every method, 5xx on GET, PATCH and DELETE (a POST that
//     failed may have been applied, so it is left to the caller, who reads
//     the zone back).
//   - With BatchSize, writes go through the batch endpoint: a 500-record
//     failover is 3 requests of 200 changes (Free plans allow 200 a batch,
//     paid plans 3,500), each applied atomically.
//   - Lists read every page. Pages are offset-based, so a record created
//     or deleted by someone else between two page reads shifts the others:
//     a record listed twice is kept once (by ID), and a list whose total
//     changed, or that has fewer distinct records than its total, is read
//     again (3 times at most, then an error). SetRecords and DeleteRecords
//     list the RRsets they change one by one, filtered by name and type,
//     when the zone takes more pages than they have RRsets.
//   - SetRecords and DeleteRecords read, then write: calls on one zone are
//     serialised, so two at once never both act on the same read.
//   - A TTL of 0 (libdns: the provider's default) is sent as 1, automatic;
//     a DNS-only record on automatic (read as 300 s) is not rewritten for
//     a TTL of 0, 1 or 300 s. A value given twice is one record.
//   - The HTTP client has timeouts; MinTTL
//     reports Cloudflare's TTL floor (60 s, 30 s on Enterprise), so the
//     Manager raises lower TTLs instead of having writes rejected.
//   - Requests go to Options.Endpoint. Errors name the operation and the
//     zone, unwrap to their cause (errors.Is(err,
//     context.DeadlineExceeded), errors.As(err, **APIError)), and never
//     show the token; neither does fmt.
package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dnsfailover/failover/internal/zonelock"
	"github.com/libdns/libdns"
)

// DefaultEndpoint is Cloudflare's API.
const DefaultEndpoint = "https://api.cloudflare.com/client/v4"

// DefaultRateLimit and DefaultRateWindow are Cloudflare's API rate limit:
// 1,200 requests per 5 minutes per user.
const (
	DefaultRateLimit  = 1200
	DefaultRateWindow = 5 * time.Minute
)

// Provider is a Cloudflare DNS provider. Create it with New; it is safe for
// concurrent use.
type Provider struct {
	minTTL    time.Duration
	batchSize int
	endpoint  string
	token     string
	zoneToken string
	http      *retryClient

	writing zonelock.Locks // one read-modify-write per zone at a time

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
	// Endpoint is the API's base URL, under which every request goes.
	// Empty means DefaultEndpoint; tests point it at a fake.
	Endpoint string
	// MaxRetries is how many times a request is retried after a 429 or a
	// 5xx. Zero means 3; negative means none.
	MaxRetries int
	// MaxRetryWait caps one wait between retries. A 429 whose Retry-After
	// is longer is returned to the caller, and later calls fail with a
	// *BlockedError, sending nothing, until it has passed. Zero means 60 s.
	MaxRetryWait time.Duration
	// RateLimit is how many requests this provider sends at most in any
	// RateWindow, retries included; a request beyond it waits. Zero means
	// DefaultRateLimit (1,200); negative means no limit. The limit is
	// Cloudflare's per user: share it between providers with one token by
	// lowering it.
	RateLimit int
	// RateWindow is the window of RateLimit. Zero means DefaultRateWindow
	// (5 minutes).
	RateWindow time.Duration
	// BatchSize, when positive, makes SetRecords send its changes through
	// Cloudflare's batch endpoint (POST /zones/{id}/dns_records/batch, each
	// request applied atomically), at most BatchSize record changes per
	// request (200 on Free plans, 3,500 on paid plans): a 500-record
	// failover is then 3 requests instead of 500. Zero means per-record
	// requests. The batch shape is tested against this package's fake,
	// not yet against the live API.
	BatchSize int
}

// New returns a provider that authenticates with apiToken (a scoped API
// token with Zone.DNS:Edit, not a global API key). It makes no request.
func New(apiToken string, opts Options) (*Provider, error) {
	if apiToken == "" {
		return nil, errors.New("cloudflare: empty API token")
	}
	endpoint := strings.TrimSuffix(opts.Endpoint, "/")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("cloudflare: Endpoint %q: want an http(s) URL such as %s", opts.Endpoint, DefaultEndpoint)
	}
	if opts.BatchSize < 0 {
		return nil, fmt.Errorf("cloudflare: BatchSize %d: want 0 (per-record requests) or more", opts.BatchSize)
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
	rc := &retryClient{client: client, maxRetries: retries, maxWait: wait}
	if opts.RateLimit >= 0 {
		n, window := opts.RateLimit, opts.RateWindow
		if n == 0 {
			n = DefaultRateLimit
		}
		if window <= 0 {
			window = DefaultRateWindow
		}
		rc.limit = newWindowLimiter(n, window)
	}
	p := &Provider{
		minTTL:    60 * time.Second,
		batchSize: opts.BatchSize,
		endpoint:  endpoint,
		token:     apiToken,
		zoneToken: opts.ZoneToken,
		http:      rc,
		zones:     map[string]string{},
	}
	if opts.Enterprise {
		p.minTTL = 30 * time.Second
	}
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

// AutomaticTTL returns 1 s: the TTL that GetRecords reports for a proxied
// record, whose TTL Cloudflare chooses whatever is sent. The Manager does
// not manage the TTL of a record read with it (see
// failover.AutomaticTTLProvider).
func (p *Provider) AutomaticTTL() time.Duration { return time.Second }

// GetRecords returns every record of zone (an FQDN with a trailing dot),
// reading every page, as libdns's typed records where libdns has a type.
// Proxied records have TTL 1 s (automatic), DNS-only records on automatic
// 300 s.
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
		out = append(out, r.typed(zone))
	}
	return out, nil
}

// AppendRecords creates recs in zone, DNS-only, and returns them as
// created. It is not atomic: after an error, some may have been created.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	var out []libdns.Record
	for _, r := range recs {
		c, err := toRecord(r.RR(), zone)
		if err != nil {
			return out, p.wrap("creating records in", zone, err)
		}
		zoneID, err := p.zoneID(ctx, zone)
		if err != nil {
			return out, err
		}
		var created record
		if _, err := p.call(ctx, p.token, http.MethodPost, "/zones/"+zoneID+"/dns_records", c, &created); err != nil {
			return out, p.wrap("creating records in", zone, err)
		}
		out = append(out, created.typed(zone))
	}
	return out, nil
}

// DeleteRecords deletes the records of zone that match recs and returns
// them. A record matches on name and type, on its value unless the
// input's is empty, and on its TTL as GetRecords reports it unless the
// input's is zero; an empty type matches any. The zone is read once, or
// the RRsets recs name one by one when that costs fewer requests (see
// SetRecords). It is not atomic: after an error, some may have been
// deleted.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	zoneID, err := p.zoneID(ctx, zone)
	if err != nil {
		return nil, err
	}
	var read []pair // nil: the whole zone
	for _, r := range recs {
		rr := r.RR()
		k := pair{strings.ToLower(libdns.AbsoluteName(rr.Name, zone)), strings.ToUpper(rr.Type)}
		if k.typ == "" { // any type: the whole zone
			read = nil
			break
		}
		if !slices.Contains(read, k) {
			read = append(read, k)
		}
	}
	unlock, err := p.writing.Lock(ctx, zone)
	if err != nil {
		return nil, p.wrap("deleting records from", zone, err)
	}
	defer unlock()
	held, err := p.held(ctx, zoneID, read)
	if err != nil {
		return nil, p.wrap("listing records of", zone, err)
	}
	var out []libdns.Record
	gone := map[string]bool{}
	for _, r := range recs {
		rr := r.RR()
		name := strings.ToLower(libdns.AbsoluteName(rr.Name, zone))
		var value string
		if rr.Data != "" {
			c, err := toRecord(rr, zone)
			if err != nil {
				return out, p.wrap("deleting records from", zone, err)
			}
			value = c.canonical()
		}
		for k, hs := range held {
			if k.name != name || rr.Type != "" && k.typ != strings.ToUpper(rr.Type) {
				continue
			}
			for _, h := range hs {
				if gone[h.ID] || value != "" && h.canonical() != value || rr.TTL != 0 && time.Duration(h.ttl())*time.Second != rr.TTL {
					continue
				}
				if _, err := p.call(ctx, p.token, http.MethodDelete, "/zones/"+zoneID+"/dns_records/"+h.ID, nil, nil); err != nil {
					return out, p.wrap("deleting records from", zone, err)
				}
				gone[h.ID] = true
				out = append(out, h.typed(zone))
			}
		}
	}
	return out, nil
}

// ListZones returns the zones the token (or the ZoneToken) can see.
func (p *Provider) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	var out []libdns.Zone
	for page := 1; ; page++ {
		var zones []struct {
			Name string `json:"name"`
		}
		info, err := p.call(ctx, p.lookupToken(), http.MethodGet, fmt.Sprintf("/zones?page=%d&per_page=50", page), nil, &zones)
		if err != nil {
			return out, p.wrap("listing zones of", "the account", err)
		}
		for _, z := range zones {
			out = append(out, libdns.Zone{Name: strings.TrimSuffix(z.Name, ".") + "."})
		}
		if info == nil || len(zones) == 0 || page*info.PerPage >= info.TotalCount {
			return out, nil
		}
	}
}

// lookupToken is the token that reads zones: ZoneToken when given.
func (p *Provider) lookupToken() string {
	if p.zoneToken != "" {
		return p.zoneToken
	}
	return p.token
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
	if _, err := p.call(ctx, p.lookupToken(), http.MethodGet, "/zones?name="+url.QueryEscape(strings.TrimSuffix(zone, ".")), nil, &zones); err != nil {
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
