package main

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/check"
	"github.com/dnsfailover/failover/check/grpccheck"
	"go.yaml.in/yaml/v3"
)

// checkTypes are the checks a file may name in type:, each returning a
// new value to decode the check's other keys into. Each accepts its own
// fields only.
var checkTypes = map[string]func() failover.Checker{
	"http":  func() failover.Checker { return &check.HTTP{} },
	"https": func() failover.Checker { return &check.HTTP{Scheme: "https"} },
	"tcp":   func() failover.Checker { return &check.TCP{} },
	"tls":   func() failover.Checker { return &check.TLS{} },
	"dns":   func() failover.Checker { return &check.DNS{} },
	"icmp":  func() failover.Checker { return &check.ICMP{} },
	"exec":  func() failover.Checker { return &check.Exec{} },
	"grpc":  func() failover.Checker { return &grpccheck.Check{} },
}

// checkTypeNames are the names of checkTypes, then of quorumTypes, each
// sorted, as messages list them.
var checkTypeNames = slices.Concat(slices.Sorted(maps.Keys(checkTypes)), slices.Sorted(maps.Keys(quorumTypes)))

// quorum combines checks: type all or any.
type quorum struct {
	Checks []failover.Checker `yaml:"checks"`
}

// atLeast combines checks: type at_least, healthy when Need of them are.
type atLeast struct {
	Checks []failover.Checker `yaml:"checks"`
	Need   int                `yaml:"need"`
}

// quorumTypes are the combinations a file may name in type:.
var quorumTypes = map[string]func(d *decoder, n *yaml.Node, l loc) failover.Checker{
	"all": func(d *decoder, n *yaml.Node, l loc) failover.Checker {
		return failover.All(d.quorum(n, l, "all").Checks...)
	},
	"any": func(d *decoder, n *yaml.Node, l loc) failover.Checker {
		return failover.Any(d.quorum(n, l, "any").Checks...)
	},
	"at_least": func(d *decoder, n *yaml.Node, l loc) failover.Checker {
		var q atLeast
		d.decode(n, reflect.ValueOf(&q).Elem(), l)
		if q.Need < 1 || q.Need > len(q.Checks) {
			d.fail(n, l.field("need", "Need"), "%d: want 1 to %d, the number of checks", q.Need, len(q.Checks))
		}
		return failover.AtLeast(q.Need, q.Checks...)
	},
}

// quorum decodes the checks of an all or any, refusing an empty list
// (which the library would report as an AtLeast of 0).
func (d *decoder) quorum(n *yaml.Node, l loc, typ string) quorum {
	var q quorum
	d.decode(n, reflect.ValueOf(&q).Elem(), l)
	if c := value(n, "checks"); c != nil && len(q.Checks) == 0 {
		d.fail(c, l.field("checks", "Checks"), "%s: no checks; want at least one", typ)
	}
	return q
}

func init() {
	typeHooks[reflect.TypeFor[failover.Checker]()] = decodeCheck
	typeHooks[reflect.TypeFor[*x509.CertPool]()] = decodeCAFile
	typeHooks[reflect.TypeFor[[]tls.Certificate]()] = decodeCertificates
	typeHooks[reflect.TypeFor[*tls.Config]()] = decodeTLSConfig
	typeHooks[reflect.TypeFor[http.Header]()] = decodeHeader

	fieldRules[reflect.TypeFor[check.TLSOptions]()] = map[string]rule{
		"RootCAs":    {key: "ca_file"}, // a PEM file of the roots to trust
		"MinVersion": {decode: decodeTLSVersion},
	}
	fieldRules[reflect.TypeFor[check.DNS]()] = map[string]rule{
		"Type": {key: "record_type"}, // type: names the check
	}
	for typ, fields := range map[reflect.Type][]string{
		reflect.TypeFor[check.TCP]():       {"Port"},
		reflect.TypeFor[grpccheck.Check](): {"Port"},
		reflect.TypeFor[check.DNS]():       {"Name"},
		reflect.TypeFor[check.Exec]():      {"Command"},
		reflect.TypeFor[quorum]():          {"Checks"},
		reflect.TypeFor[atLeast]():         {"Checks", "Need"},
	} {
		rules := fieldRules[typ]
		if rules == nil {
			rules = map[string]rule{}
			fieldRules[typ] = rules
		}
		for _, f := range fields {
			r := rules[f]
			r.required = true
			rules[f] = r
		}
	}
}

// namedCheck is one entry of checks:, with where it is written (its Go
// path) and a fingerprint of it and of the named checks it uses.
type namedCheck struct {
	checker     failover.Checker
	gopath, fpr string
}

// decodeNamedChecks reads checks:, a map of names to checks. A check may
// combine checks named above it.
func decodeNamedChecks(d *decoder, n *yaml.Node, v reflect.Value, l loc) {
	if null(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, l, "want a mapping of names to checks, not %s", describe(n))
		return
	}
	m := map[string]failover.Checker{}
	d.pairs(n, l, func(k, val *yaml.Node) {
		el := l.field(k.Value, k.Value)
		if k.Value == "" {
			d.fail(k, el, "a check's name must not be empty")
			return
		}
		var c failover.Checker
		d.uses = nil
		d.decode(val, reflect.ValueOf(&c).Elem(), el)
		m[k.Value] = c
		d.named[k.Value] = namedCheck{checker: c, gopath: el.gopath, fpr: digest(k.Value, fingerprint(val), d.used())}
	})
	v.Set(reflect.ValueOf(m))
}

// decodeCheck reads a check: the name of one under checks:, or a mapping
// whose type: says which check it is, with that check's fields. A
// problem with a named check is placed where the check is written.
func decodeCheck(d *decoder, n *yaml.Node, v reflect.Value, l loc) {
	delete(d.alias, l.gopath) // not the default check: this one
	if n.Kind == yaml.ScalarNode && !null(n) {
		nc, ok := d.named[n.Value]
		if !ok {
			d.fail(n, l, "no check named %s under checks: (%s)", quote(n.Value), strings.Join(slices.Sorted(maps.Keys(d.named)), ", "))
			return
		}
		delete(d.at, l.gopath)
		d.alias[l.gopath] = nc.gopath
		d.uses = append(d.uses, nc.fpr)
		if nc.checker != nil { // nil: refused where it is written, and reported there
			v.Set(reflect.ValueOf(nc.checker))
		}
		return
	}
	typ, rest, ok := d.typed(n, l, "check", checkTypeNames)
	if !ok {
		return
	}
	if combine, ok := quorumTypes[typ]; ok {
		v.Set(reflect.ValueOf(combine(d, rest, l)))
		return
	}
	c := checkTypes[typ]()
	d.decode(rest, reflect.ValueOf(c).Elem(), l)
	if val, ok := c.(interface{ Validate() error }); ok {
		if err := val.Validate(); err != nil {
			d.fail(n, l, "%v", err)
		}
	}
	v.Set(reflect.ValueOf(c))
}

// typed splits mapping n into its type: and the rest, reporting a missing
// or unknown type.
func (d *decoder) typed(n *yaml.Node, l loc, what string, types []string) (string, *yaml.Node, bool) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, l, "want a %s: a mapping with type: (%s), not %s", what, strings.Join(types, ", "), describe(n))
		return "", nil, false
	}
	rest := *n
	rest.Content = nil
	var typ *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "type" && typ == nil {
			typ = n.Content[i+1]
			continue
		}
		rest.Content = append(rest.Content, n.Content[i], n.Content[i+1])
	}
	tl := l.field("type", "")
	switch {
	case typ == nil:
		d.fail(n, tl, "missing: %s", strings.Join(types, ", "))
	case typ.Kind != yaml.ScalarNode || !slices.Contains(types, typ.Value):
		d.fail(typ, tl, "unknown %s type %s; want %s", what, describe(typ), strings.Join(types, ", "))
	default:
		return typ.Value, &rest, true
	}
	return "", nil, false
}

// readFile reads a file the configuration names (a CA, a certificate, a
// secret). When it cannot be read, that is an error, or, in a check
// without -strict, a warning: CI does not have production's files.
func (d *decoder) readFile(n *yaml.Node, l loc) ([]byte, bool) {
	if !d.scalar(n, l) {
		return nil, false
	}
	data, err := readBounded(n.Value, maxFileBytes)
	if err != nil {
		d.warn(n, l, "%s", clip(err.Error(), 300))
		return nil, false
	}
	return data, true
}

// decodeCAFile reads a PEM file of root certificates.
func decodeCAFile(d *decoder, n *yaml.Node, v reflect.Value, l loc) {
	pem, ok := d.readFile(n, l)
	if !ok {
		return
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		d.fail(n, l, "%s holds no PEM certificate", quote(n.Value))
		return
	}
	v.Set(reflect.ValueOf(pool))
}

// certFiles is a client certificate and its key, each a PEM file.
type certFiles struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

func init() {
	fieldRules[reflect.TypeFor[certFiles]()] = map[string]rule{"CertFile": {required: true}, "KeyFile": {required: true}}
}

// decodeCertificates reads client certificates: a list of {cert_file,
// key_file}.
func decodeCertificates(d *decoder, n *yaml.Node, v reflect.Value, l loc) {
	var files []certFiles
	d.decode(n, reflect.ValueOf(&files).Elem(), l)
	var certs []tls.Certificate
	for i, f := range files {
		el := l.index(i)
		if f.CertFile == "" || f.KeyFile == "" {
			continue
		}
		certPEM, ok1 := d.readFile(&yaml.Node{Kind: yaml.ScalarNode, Value: f.CertFile, Line: n.Content[i].Line, Column: n.Content[i].Column}, el.field("cert_file", ""))
		keyPEM, ok2 := d.readFile(&yaml.Node{Kind: yaml.ScalarNode, Value: f.KeyFile, Line: n.Content[i].Line, Column: n.Content[i].Column}, el.field("key_file", ""))
		if !ok1 || !ok2 {
			continue
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			d.fail(n.Content[i], el, "%v", err)
			continue
		}
		certs = append(certs, cert)
	}
	v.Set(reflect.ValueOf(certs))
}

var tlsVersions = map[string]uint16{"1.0": tls.VersionTLS10, "1.1": tls.VersionTLS11, "1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}

// decodeTLSVersion reads a TLS version as "1.2" or "1.3".
func decodeTLSVersion(d *decoder, n *yaml.Node, v reflect.Value, l loc) {
	if !d.scalar(n, l) {
		return
	}
	ver, ok := tlsVersions[n.Value]
	if !ok {
		d.fail(n, l, "%s is not a TLS version: 1.0, 1.1, 1.2 or 1.3", quote(n.Value))
		return
	}
	v.SetUint(uint64(ver))
}

// decodeTLSConfig reads the gRPC check's TLS (a *tls.Config) as the other
// checks' TLS settings (check.TLSOptions), so every check's tls: has the
// same fields: ca_file, certificates, min_version, expiry_window,
// insecure_skip_verify; "tls: true" means the defaults.
func decodeTLSConfig(d *decoder, n *yaml.Node, v reflect.Value, l loc) {
	var o *check.TLSOptions
	d.decode(n, reflect.ValueOf(&o).Elem(), l)
	if o == nil {
		v.SetZero()
		return
	}
	cfg := &tls.Config{RootCAs: o.RootCAs, Certificates: o.Certificates, MinVersion: max(o.MinVersion, tls.VersionTLS12), InsecureSkipVerify: o.InsecureSkipVerify}
	if o.MinVersion != 0 {
		cfg.MinVersion = o.MinVersion
	}
	if o.ExpiryWindow < 0 { // as check.TLSOptions' users refuse it
		at := cmp.Or(value(n, "expiry_window"), n)
		d.fail(at, l.field("expiry_window", "ExpiryWindow"), "negative duration %v", o.ExpiryWindow)
	}
	if window := o.ExpiryWindow; window > 0 {
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return expiring(cs, window, time.Now()) }
	}
	v.Set(reflect.ValueOf(cfg))
}

// expiring fails when a certificate of the verified chain (or the one
// presented, unverified) expires within window of now, as
// check.TLSOptions.ExpiryWindow does for the other checks. It goes when
// grpccheck.Check takes a check.TLSOptions.
func expiring(cs tls.ConnectionState, window time.Duration, now time.Time) error {
	certs := cs.PeerCertificates
	if len(cs.VerifiedChains) > 0 {
		certs = cs.VerifiedChains[0]
	}
	for _, c := range certs {
		if left := c.NotAfter.Sub(now); left < window {
			return fmt.Errorf("certificate %q expires in %v (%s), within the %v window",
				c.Subject.CommonName, left.Round(time.Minute), c.NotAfter.UTC().Format(time.RFC3339), window)
		}
	}
	return nil
}

// decodeHeader reads request headers: names to a value or a list of
// values.
func decodeHeader(d *decoder, n *yaml.Node, v reflect.Value, l loc) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, l, "want a mapping of header names to values, not %s", describe(n))
		return
	}
	h := http.Header{}
	d.pairs(n, l, func(k, val *yaml.Node) {
		el := l.field(k.Value, k.Value)
		var values []string
		if val.Kind == yaml.ScalarNode {
			values = []string{val.Value}
		} else {
			d.decode(val, reflect.ValueOf(&values).Elem(), el)
		}
		for _, s := range append([]string{k.Value}, values...) {
			if strings.ContainsAny(s, "\r\n\x00") {
				d.fail(val, el, "a header must not hold a line break")
				return
			}
		}
		for _, s := range values {
			h.Add(k.Value, s)
		}
	})
	v.Set(reflect.ValueOf(h))
}
