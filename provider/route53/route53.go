// Package route53 is a libdns provider for Amazon Route 53 that the
// failover Manager can rely on. It wraps github.com/libdns/route53 v1.6.2,
// which replaces whole RRsets with one UPSERT per (name, type) and retries
// through the AWS SDK, and fixes what would hurt a long-running program:
//
//   - Upstream calls log.Fatalf, ending the whole process, when the AWS
//     configuration cannot be loaded (a Profile that does not exist, say).
//     New loads and checks the configuration itself and returns an error.
//   - Upstream looks the hosted zone up on every call unless one ID is
//     given for all zones. Here each zone is looked up once and its ID
//     cached (or given per zone).
//
// The SDK's standard environment applies: credentials, AWS_REGION, and
// AWS_ENDPOINT_URL_ROUTE_53 (how tests point it at a local fake).
package route53

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/libdns/libdns"
	upstream "github.com/libdns/route53"
)

// Options configure a Provider. Empty fields fall back to the AWS SDK's
// standard environment and shared configuration.
type Options struct {
	Region          string // empty: AWS_REGION, else us-east-1 (Route 53 is global)
	Profile         string // shared configuration profile; must exist when set
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// HostedZoneIDs maps zone names (FQDNs with trailing dot) to hosted
	// zone IDs, saving the lookup. Zones not listed are looked up once.
	HostedZoneIDs map[string]string
	// WaitForSync makes every write wait until Route 53 reports the change
	// INSYNC on all its servers, up to MaxWait (zero: 1 minute).
	WaitForSync bool
	MaxWait     time.Duration
	// MaxRetries for throttled or failed requests. Zero means 5.
	MaxRetries int
}

// Provider is a Route 53 DNS provider. Create it with New; it is safe for
// concurrent use.
type Provider struct {
	opts   Options
	client *r53.Client

	mu    sync.Mutex
	zones map[string]*upstream.Provider // by zone name, each with its hosted zone ID
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
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("route53: loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
		opts.Region = cfg.Region
	}
	if opts.Region == "" {
		opts.Region = cfg.Region
	}
	for zone, id := range opts.HostedZoneIDs {
		if !strings.HasSuffix(zone, ".") || id == "" {
			return nil, fmt.Errorf("route53: HostedZoneIDs[%q] = %q: want a zone with trailing dot and an ID", zone, id)
		}
	}
	return &Provider{opts: opts, client: r53.NewFromConfig(cfg), zones: map[string]*upstream.Provider{}}, nil
}

// Name returns "route53", the provider's name in events and Status.
func (p *Provider) Name() string { return "route53" }

// String returns the provider's name, never its credentials.
func (p *Provider) String() string { return "route53" }

// GoString is String: fmt's %#v shows no credentials either.
func (p *Provider) GoString() string { return "route53" }

// zone returns the upstream provider for zone, looking its hosted zone up
// once.
func (p *Provider) zone(ctx context.Context, zone string) (*upstream.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if up, ok := p.zones[zone]; ok {
		return up, nil
	}
	id := p.opts.HostedZoneIDs[zone]
	if id == "" {
		var err error
		if id, err = p.lookup(ctx, zone); err != nil {
			return nil, err
		}
	}
	up := &upstream.Provider{
		Region:             p.opts.Region,
		Profile:            p.opts.Profile,
		AccessKeyId:        p.opts.AccessKeyID,
		SecretAccessKey:    p.opts.SecretAccessKey,
		SessionToken:       p.opts.SessionToken,
		MaxRetries:         p.opts.MaxRetries,
		WaitForRoute53Sync: p.opts.WaitForSync,
		Route53MaxWait:     p.opts.MaxWait,
		HostedZoneID:       strings.TrimPrefix(id, "/hostedzone/"),
	}
	p.zones[zone] = up
	return up, nil
}

// lookup finds the public hosted zone named zone.
func (p *Provider) lookup(ctx context.Context, zone string) (string, error) {
	out, err := p.client.ListHostedZonesByName(ctx, &r53.ListHostedZonesByNameInput{DNSName: aws.String(zone), MaxItems: aws.Int32(10)})
	if err != nil {
		return "", fmt.Errorf("route53: looking up hosted zone %s: %w", zone, err)
	}
	var private string
	for _, z := range out.HostedZones {
		if aws.ToString(z.Name) != zone {
			continue
		}
		if z.Config == nil || !z.Config.PrivateZone {
			return aws.ToString(z.Id), nil
		}
		private = aws.ToString(z.Id)
	}
	if private != "" {
		return private, nil
	}
	return "", fmt.Errorf("route53: no hosted zone named %s", zone)
}

// GetRecords returns every record of zone.
func (p *Provider) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	up, err := p.zone(ctx, zone)
	if err != nil {
		return nil, err
	}
	recs, err := up.GetRecords(ctx, zone)
	return recs, wrap("reading", zone, err)
}

// SetRecords replaces, for each (name, type) of recs, the record set with
// recs: one UPSERT per set, each atomic; the call as a whole is not.
func (p *Provider) SetRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	up, err := p.zone(ctx, zone)
	if err != nil {
		return nil, err
	}
	out, err := up.SetRecords(ctx, zone, recs)
	return out, wrap("writing", zone, err)
}

// AppendRecords adds recs to zone.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	up, err := p.zone(ctx, zone)
	if err != nil {
		return nil, err
	}
	out, err := up.AppendRecords(ctx, zone, recs)
	return out, wrap("appending to", zone, err)
}

// DeleteRecords deletes recs from zone.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	up, err := p.zone(ctx, zone)
	if err != nil {
		return nil, err
	}
	out, err := up.DeleteRecords(ctx, zone, recs)
	return out, wrap("deleting from", zone, err)
}

func wrap(op, zone string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("route53: %s %s: %w", op, zone, err)
}
