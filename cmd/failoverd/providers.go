package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/provider/cloudflare"
	"github.com/dnsfailover/failover/provider/powerdns"
	"github.com/dnsfailover/failover/provider/rfc2136"
	"github.com/dnsfailover/failover/provider/route53"
	"github.com/libdns/libdns"
	"go.yaml.in/yaml/v3"
)

// providerConfig is one type of provider as the file writes it: its own
// fields only, secrets from an environment variable (KEY_env) or a file
// (KEY_file), never inline.
type providerConfig interface {
	// provider builds the provider for zone.
	provider(ctx context.Context, zone string) (failover.Provider, error)
}

// providerTypes are the providers a file may name in type:.
var providerTypes = map[string]func() providerConfig{
	"cloudflare": func() providerConfig { return &cloudflareConfig{} },
	"route53":    func() providerConfig { return &route53Config{} },
	"rfc2136":    func() providerConfig { return &rfc2136Config{} },
	"powerdns":   func() providerConfig { return &powerdnsConfig{} },
}

// cloudflareConfig is provider/cloudflare's New with its Options.
type cloudflareConfig struct {
	APIToken           string `yaml:"api_token"`
	cloudflare.Options `yaml:",inline"`
}

func (c *cloudflareConfig) provider(ctx context.Context, zone string) (failover.Provider, error) {
	return cloudflare.New(c.APIToken, c.Options)
}

// route53Config is provider/route53's Options, with the zone's hosted
// zone ID.
type route53Config struct {
	route53.Options `yaml:",inline"`
	// HostedZoneID saves looking the zone up by name.
	HostedZoneID string `yaml:"hosted_zone_id"`
}

func (c *route53Config) provider(ctx context.Context, zone string) (failover.Provider, error) {
	opts := c.Options
	if c.HostedZoneID != "" {
		opts.HostedZoneIDs = map[string]string{zone: c.HostedZoneID}
	}
	return route53.New(ctx, opts)
}

// rfc2136Config is provider/rfc2136's Provider (BIND, Knot): updates
// signed with a TSIG key, zone reads by AXFR. Its Validate, promoted,
// refuses at check time what every read and write would fail on.
type rfc2136Config struct {
	rfc2136.Provider `yaml:",inline"`
}

func (c *rfc2136Config) provider(ctx context.Context, zone string) (failover.Provider, error) {
	return &c.Provider, nil
}

// powerdnsConfig is provider/powerdns's New with its Options (the
// PowerDNS HTTP API).
type powerdnsConfig struct {
	ServerURL        string `yaml:"server_url"`
	APIToken         string `yaml:"api_token"`
	powerdns.Options `yaml:",inline"`
}

func (c *powerdnsConfig) provider(ctx context.Context, zone string) (failover.Provider, error) {
	return powerdns.New(c.ServerURL, c.APIToken, c.Options)
}

func init() {
	typeHooks[reflect.TypeFor[failover.Provider]()] = decodeProvider

	fieldRules[reflect.TypeFor[cloudflareConfig]()] = map[string]rule{"APIToken": {secret: true, required: true}}
	fieldRules[reflect.TypeFor[cloudflare.Options]()] = map[string]rule{
		"ZoneToken":  {secret: true},
		"HTTPClient": {deny: true}, // a Go value; the provider's own has a timeout
	}
	fieldRules[reflect.TypeFor[route53.Options]()] = map[string]rule{
		"AccessKeyID":     {secret: true},
		"SecretAccessKey": {secret: true},
		"SessionToken":    {secret: true},
		"HostedZoneIDs":   {deny: true}, // hosted_zone_id, for the provider's zone
	}
	fieldRules[reflect.TypeFor[rfc2136.Provider]()] = map[string]rule{
		"Key":     {key: "secret", secret: true, required: true}, // the TSIG key, base64
		"Server":  {required: true},
		"KeyName": {required: true},
	}
	fieldRules[reflect.TypeFor[powerdnsConfig]()] = map[string]rule{
		"APIToken":  {secret: true, required: true},
		"ServerURL": {required: true},
	}
	fieldRules[reflect.TypeFor[powerdns.Options]()] = map[string]rule{
		"HTTPClient": {deny: true}, // a Go value; the provider's own has a timeout
	}
}

// decodeProvider reads one provider of the zone being decoded: type: and
// that type's own fields.
func decodeProvider(d *decoder, n *yaml.Node, v reflect.Value, l loc) {
	typ, rest, ok := d.typed(n, l, "provider", slices.Sorted(maps.Keys(providerTypes)))
	if !ok {
		return
	}
	c := providerTypes[typ]()
	before := d.errors()
	name := d.providerName(rest, l)
	d.decode(rest, reflect.ValueOf(c).Elem(), l)
	zone := ""
	if d.zone != nil {
		zone = d.zone.name
		label := typ
		if name != "" {
			label = name + " (" + typ + ")"
		}
		d.labels[d.zone.index] = append(d.labels[d.zone.index], label)
	}
	if d.errors() > before {
		return
	}
	if v, ok := c.(interface{ Validate() error }); ok {
		for _, err := range unjoin(v.Validate()) {
			var fe *rfc2136.FieldError
			switch {
			case errors.As(err, &fe) && placeholderIn(c, fe.Field):
				// A secret not available in a check without -strict.
			case fe != nil:
				d.failAt(join(l.gopath, fe.Field), fe.Msg)
			default:
				d.fail(n, l, "%s", clip(err.Error(), 300))
			}
		}
		if d.errors() > before {
			return
		}
	}
	p, err := c.provider(d.ctx, zone)
	if err != nil {
		// The AWS configuration (a profile, say) is production's
		// environment: a check in CI may not have it.
		d.warn(n, l, "%s", clip(err.Error(), 300))
		p = unavailable{err}
	}
	if name != "" {
		p = &namedProvider{Provider: p, name: name}
	}
	v.Set(reflect.ValueOf(p))
}

// providerName takes the name: key out of a provider's mapping: the name
// the provider has in logs, events, Status and metrics, unique in its
// zone. Without it the provider is named by its type.
func (d *decoder) providerName(n *yaml.Node, l loc) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "name" {
			continue
		}
		v := n.Content[i+1]
		n.Content = slices.Delete(slices.Clone(n.Content), i, i+2)
		nl := l.field("name", "")
		if !d.scalar(v, nl) {
			return ""
		}
		if strings.TrimSpace(v.Value) == "" || len(v.Value) > 64 || strings.ContainsFunc(v.Value, unicode.IsControl) {
			d.fail(v, nl, "%s is not a name: 1 to 64 printable characters", quote(v.Value))
			return ""
		}
		if d.zone != nil {
			if d.zone.names == nil {
				d.zone.names = map[string]bool{}
			}
			if d.zone.names[v.Value] {
				d.fail(v, nl, "%s names another provider of this zone", quote(v.Value))
				return ""
			}
			d.zone.names[v.Value] = true
		}
		return v.Value
	}
	return ""
}

// namedProvider is a provider with the name the file gives it; it has
// the optional methods of every provider type the file can name.
type namedProvider struct {
	failover.Provider
	name string
}

// Name is the provider's name in events, Status and metrics.
func (p *namedProvider) Name() string { return p.name }

// DeleteRecords deletes through the provider; every provider type of the
// file can delete.
func (p *namedProvider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	del, ok := p.Provider.(libdns.RecordDeleter)
	if !ok {
		return nil, fmt.Errorf("provider %s cannot delete records", p.name)
	}
	return del.DeleteRecords(ctx, zone, recs)
}

// MinTTL is the provider's TTL floor, or 0.
func (p *namedProvider) MinTTL() time.Duration {
	if f, ok := p.Provider.(failover.MinTTLProvider); ok {
		return f.MinTTL()
	}
	return 0
}

// AutomaticTTL is the TTL the provider reports for records whose TTL it
// chooses, or 0.
func (p *namedProvider) AutomaticTTL() time.Duration {
	if a, ok := p.Provider.(failover.AutomaticTTLProvider); ok {
		return a.AutomaticTTL()
	}
	return 0
}

// placeholderIn reports whether the string field of c (a pointer to a
// struct) named field holds the placeholder.
func placeholderIn(c any, field string) bool {
	f := reflect.ValueOf(c).Elem().FieldByName(field)
	return f.Kind() == reflect.String && f.String() == placeholder
}

// unavailable stands for a provider that could not be built, in a check
// without -strict; it is never run.
type unavailable struct{ err error }

func (u unavailable) GetRecords(context.Context, string) ([]libdns.Record, error) { return nil, u.err }
func (u unavailable) SetRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	return nil, u.err
}

// placeholder stands for a secret that is not available, in a check
// without -strict; such a configuration is never run.
const placeholder = "failoverd-check-placeholder"

// secretSource is what the file gives for a secret: an environment
// variable's name (KEY_env), a file's name (KEY_file), or, for a secret
// that may be written in place (inlineOK), the value itself (KEY).
type secretSource struct {
	env, file, inline *yaml.Node
	inlineOK          bool
}

// secret reads a credential into v, the field goName of the struct at l,
// from the one source the file gives. A secret that is given but not
// available is an error, or a warning in a check without -strict. The
// source's key is recorded as the field's position.
func (d *decoder) secret(n *yaml.Node, v reflect.Value, l loc, base, goName string, src secretSource, required bool) {
	il, el, fl := l.field(base, goName), l.field(base+"_env", goName), l.field(base+"_file", goName)
	var given []string
	for _, s := range []struct {
		n   *yaml.Node
		key string
		l   loc
	}{{src.inline, base, il}, {src.env, base + "_env", el}, {src.file, base + "_file", fl}} {
		if s.n == nil {
			continue
		}
		if given = append(given, s.key); len(given) > 1 {
			d.fail(s.n, s.l, "give %s, not both", strings.Join(given, " or "))
			return
		}
		d.at[s.l.gopath] = position{s.n.Line, s.n.Column, s.l.yaml}
	}
	switch {
	case src.inline != nil:
		if !d.scalar(src.inline, il) {
			return
		}
		if src.inline.Value == "" {
			d.fail(src.inline, il, "empty")
		}
		v.SetString(src.inline.Value)
		return
	case src.env != nil:
		if !d.scalar(src.env, el) {
			return
		}
		if s := os.Getenv(src.env.Value); s != "" {
			v.SetString(s)
			return
		}
		d.warn(src.env, el, "environment variable %s is empty or unset", clip(src.env.Value, 64))
	case src.file != nil:
		if data, ok := d.readFile(src.file, fl); ok {
			if s := strings.TrimSpace(string(data)); s != "" {
				v.SetString(s)
				return
			}
			d.warn(src.file, fl, "%s is empty", quote(src.file.Value))
		}
	case required && src.inlineOK:
		d.fail(n, il, "missing: give %[1]s, or %[1]s_env (an environment variable) or %[1]s_file (a file) to keep it out of this file", base)
		return
	case required:
		d.fail(n, el, "missing: the secret comes from an environment variable (%[1]s_env) or a file (%[1]s_file)", base)
		return
	default:
		return
	}
	if !d.strict {
		v.SetString(placeholder)
	}
}
