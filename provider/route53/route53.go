// Package route53 is a libdns provider for Amazon Route 53 that the
// failover Manager can rely on. It calls the Route 53 API through the AWS
// SDK itself (github.com/libdns/route53 sends one request per RRset, reads
// routing-policy sets as one RRset, ignores alias sets and returns \052 for
// a wildcard):
//
//   - SetRecords, AppendRecords and DeleteRecords send one
//     ChangeResourceRecordSets request per call, each applied atomically
//     by Route 53, split only where the API's quotas require (1,000
//     ResourceRecord elements and 32,000 characters of values per request,
//     each counted twice in an UPSERT), every RRset whole in one request:
//     a 500-record failover is one request.
//   - Alias record sets are read (as a libdns.RR of their type whose Data
//     is the alias target) and never modified: a write or delete of an
//     RRset held as an alias is refused with an error naming it, and
//     nothing is sent.
//   - Routing-policy record sets (weighted, failover, latency, geolocation,
//     multivalue: several sets at one name and type, told apart by their
//     SetIdentifier) are not read: libdns has no way to tell them apart,
//     and reading them as one RRset would be wrong. A write of an RRset
//     held as routing-policy sets is refused with an error naming the
//     record and its set identifiers, and nothing is sent (Route 53 would
//     reject it). Manage such a name in the console, or manage another
//     name.
//   - Writes are checked against what the last read of the zone found
//     (the Manager reads before it writes); a zone never read is read once
//     first. DeleteRecords and AppendRecords read the zone once per call.
//   - Throttling and PriorRequestNotComplete (Route 53 still applying a
//     previous change of the zone) are retried with backoff, up to
//     MaxRetries times.
//   - Names are unescaped (\052 is *, other \NNN octal escapes too); TXT
//     values are quoted and unquoted, with Route 53's octal escapes
//     (\303\244 for ä), both ways.
//   - Writes to one zone are serialised: two AppendRecords at once (an
//     ACME client solving a name and its wildcard) keep both values.
//   - Each zone's hosted zone ID is looked up once, or taken from
//     HostedZoneIDs (the way to reach a private zone that shares its name
//     with a public one), and checked to be that zone's.
//   - New loads and checks the AWS configuration and returns an error
//     (upstream ends the process with log.Fatalf).
//
// The SDK's standard environment applies: credentials, AWS_REGION, and
// AWS_ENDPOINT_URL_ROUTE_53 (how tests point it at a local fake).
package route53

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/dnsfailover/failover/internal/zonelock"
)

// Options configure a Provider. Empty fields fall back to the AWS SDK's
// standard environment and shared configuration.
type Options struct {
	Region          string // empty: AWS_REGION, else us-east-1 (Route 53 is global)
	Profile         string // shared configuration profile; must exist when set
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// HostedZoneIDs maps zone names (FQDNs with trailing dot, in any
	// case) to hosted zone IDs ("Z123…" or "/hostedzone/Z123…"). A zone listed is reached
	// by that ID, which is checked once to be the zone's: the way to write
	// to a private zone that has the name of a public one. Zones not listed
	// are looked up by name once (a public zone first).
	HostedZoneIDs map[string]string
	// WaitForSync makes every write wait until Route 53 reports the change
	// INSYNC on all its servers, up to MaxWait (zero: 1 minute).
	WaitForSync bool
	MaxWait     time.Duration
	// MaxRetries is how many times a request is retried after Throttling,
	// PriorRequestNotComplete or a 5xx. Zero means 5; negative means none.
	MaxRetries int
	// MaxRetryWait caps one wait between retries. Zero means 20 s.
	MaxRetryWait time.Duration
}

// Provider is a Route 53 DNS provider. Create it with New; it is safe for
// concurrent use.
type Provider struct {
	opts    Options
	client  *r53.Client
	writing zonelock.Locks // one write per zone at a time

	mu    sync.Mutex
	zones map[string]*hostedZone // by lower-case zone name
}

// New loads and checks the AWS configuration and returns a provider, or an
// error saying what is wrong with the configuration. It makes no request.
func New(ctx context.Context, opts Options) (*Provider, error) {
	var load []func(*config.LoadOptions) error
	if opts.Profile != "" {
		load = append(load, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.Region != "" {
		load = append(load, config.WithRegion(opts.Region))
	}
	switch {
	case opts.AccessKeyID != "" && opts.SecretAccessKey != "":
		load = append(load, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(opts.AccessKeyID, opts.SecretAccessKey, opts.SessionToken)))
	case opts.AccessKeyID != "" || opts.SecretAccessKey != "":
		return nil, errors.New("route53: AccessKeyID and SecretAccessKey go together: one is empty")
	}
	ids := map[string]string{}
	for _, zone := range slices.Sorted(maps.Keys(opts.HostedZoneIDs)) {
		id := strings.TrimPrefix(opts.HostedZoneIDs[zone], "/hostedzone/")
		if !strings.HasSuffix(zone, ".") || id == "" {
			return nil, fmt.Errorf("route53: HostedZoneIDs[%q] = %q: want a zone with trailing dot and an ID", zone, opts.HostedZoneIDs[zone])
		}
		k := strings.ToLower(zone)
		if other, ok := ids[k]; ok && other != id {
			return nil, fmt.Errorf("route53: HostedZoneIDs gives zone %s two IDs, %q and %q (zone names ignore case)", k, other, id)
		}
		ids[k] = id
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("route53: loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	retries := opts.MaxRetries
	switch {
	case retries == 0:
		retries = 5
	case retries < 0:
		retries = 0
	}
	wait := opts.MaxRetryWait
	if wait <= 0 {
		wait = 20 * time.Second
	}
	client := r53.NewFromConfig(cfg, func(o *r53.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = retries + 1
			so.MaxBackoff = wait
			// Route 53 allows 5 requests per second per account: a
			// throttled write is retried, never refused by a client-side
			// quota (the Manager bounds retries across calls).
			so.RateLimiter = ratelimit.None
		})
	})
	return &Provider{opts: opts, client: client, zones: map[string]*hostedZone{}}, nil
}

// Name returns "route53", the provider's name in events and Status.
func (p *Provider) Name() string { return "route53" }

// String returns the provider's name, never its credentials.
func (p *Provider) String() string { return "route53" }

// GoString is String: fmt's %#v shows no credentials either.
func (p *Provider) GoString() string { return "route53" }

// hostedZone is one zone's ID and what its last full read found.
type hostedZone struct {
	id string // without /hostedzone/

	mu      sync.Mutex
	read    bool                // alias and routing are from a full read
	alias   map[pair]string     // alias target by RRset
	routing map[pair][]string   // set identifiers by RRset
	simple  map[pair]recordSets // simple sets, from the last read
}

// zone returns zone's hosted zone, looking its ID up (or checking the
// given one) once.
func (p *Provider) zone(ctx context.Context, zone string) (*hostedZone, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := strings.ToLower(zone)
	if z, ok := p.zones[key]; ok {
		return z, nil
	}
	id, given := p.givenID(zone)
	if given {
		out, err := p.client.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(id)})
		if err != nil {
			return nil, fmt.Errorf("route53: checking hosted zone %s of %s: %w", id, zone, err)
		}
		if name := aws.ToString(out.HostedZone.Name); !strings.EqualFold(strings.TrimSuffix(name, ".")+".", zone) {
			return nil, fmt.Errorf("route53: HostedZoneIDs[%q] = %q is the hosted zone of %s, not of %s", zone, id, name, zone)
		}
	} else {
		var err error
		if id, err = p.lookup(ctx, zone); err != nil {
			return nil, err
		}
	}
	z := &hostedZone{id: id}
	p.zones[key] = z
	return z, nil
}

// givenID returns the ID HostedZoneIDs gives for zone, whatever the case
// of either spelling, and whether it gives one.
func (p *Provider) givenID(zone string) (string, bool) {
	for name, id := range p.opts.HostedZoneIDs {
		if strings.EqualFold(name, zone) {
			return strings.TrimPrefix(id, "/hostedzone/"), true
		}
	}
	return "", false
}

// lookup finds the hosted zone named zone, public first.
func (p *Provider) lookup(ctx context.Context, zone string) (string, error) {
	out, err := p.client.ListHostedZonesByName(ctx, &r53.ListHostedZonesByNameInput{DNSName: aws.String(zone), MaxItems: aws.Int32(10)})
	if err != nil {
		return "", fmt.Errorf("route53: looking up hosted zone %s: %w", zone, err)
	}
	var private string
	for _, z := range out.HostedZones {
		if !strings.EqualFold(aws.ToString(z.Name), zone) {
			continue
		}
		id := strings.TrimPrefix(aws.ToString(z.Id), "/hostedzone/")
		if z.Config == nil || !z.Config.PrivateZone {
			return id, nil
		}
		private = id
	}
	if private != "" {
		return private, nil
	}
	return "", fmt.Errorf("route53: no hosted zone named %s", zone)
}

func wrap(op, zone string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("route53: %s %s: %w", op, zone, err)
}
