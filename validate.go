package failover

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/libdns/libdns"
)

// ErrInvalidConfig is wrapped by every [ConfigError].
var ErrInvalidConfig = errors.New("failover: invalid configuration")

// ConfigError is one problem found by New. New returns all of them at
// once, joined with errors.Join; use errors.As to inspect one.
type ConfigError struct {
	Zone     string // zone name as given, empty for Config-level fields
	Record   string // "name type" as given, empty for zone-level fields
	Endpoint string // endpoint value as given, empty for record-level fields
	Field    string // field path, such as "Endpoints[1].Value" or "Policy.Timeout"
	Msg      string
}

// Error formats the problem as "failover: zone …: record …: endpoint …:
// Field: message", leaving out the parts that do not apply.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("failover: ")
	if e.Zone != "" {
		fmt.Fprintf(&b, "zone %q: ", e.Zone)
	}
	if e.Record != "" {
		fmt.Fprintf(&b, "record %q: ", e.Record)
	}
	if e.Endpoint != "" {
		fmt.Fprintf(&b, "endpoint %q: ", e.Endpoint)
	}
	fmt.Fprintf(&b, "%s: %s", e.Field, e.Msg)
	return b.String()
}

// Unwrap returns ErrInvalidConfig.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

type fieldError struct{ field, msg string }

// zoneSpec, recordSpec and providerSpec are the validated, normalised
// configuration the Manager runs on.
type zoneSpec struct {
	name        string
	providers   []providerSpec
	records     []*recordSpec
	propagation bool     // ask the authoritative servers after each decision
	nameservers []string // host:port; empty: the zone's NS records
}

type providerSpec struct {
	p     Provider
	name  string
	floor time.Duration
	auto  time.Duration // TTL read on RRsets whose TTL the provider chooses; 0: none
}

type recordSpec struct {
	id        RecordID
	key       rrKey
	check     Checker
	policy    Policy
	endpoints []Endpoint // values normalised
}

// rrKey identifies an RRset in a zone: lower-case relative name and type.
type rrKey struct{ name, typ string }

// validate checks cfg and returns the normalised zones, or every problem.
func validate(cfg Config) ([]*zoneSpec, error) {
	var errs []error
	report := func(zone, record, endpoint string, fe fieldError) {
		errs = append(errs, &ConfigError{Zone: zone, Record: record, Endpoint: endpoint, Field: fe.field, Msg: fe.msg})
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"ReconcileInterval", cfg.ReconcileInterval}, {"RetryBackoff", cfg.RetryBackoff},
		{"MaxRetryBackoff", cfg.MaxRetryBackoff}, {"ProviderTimeout", cfg.ProviderTimeout},
		{"PropagationTimeout", cfg.PropagationTimeout}, {"PropagationInterval", cfg.PropagationInterval},
	} {
		if d.v < 0 {
			report("", "", "", fieldError{d.name, fmt.Sprintf("negative duration %v", d.v)})
		}
	}
	if cfg.MaxChecks < 0 {
		report("", "", "", fieldError{"MaxChecks", fmt.Sprintf("%d is negative", cfg.MaxChecks)})
	}
	if len(cfg.Zones) == 0 {
		report("", "", "", fieldError{"Zones", "no zone to manage"})
	}

	var zones []*zoneSpec
	zoneSeen := map[string]bool{}
	for zi, z := range cfg.Zones {
		zs := &zoneSpec{name: strings.ToLower(z.Name)}
		zoneErr := func(fe fieldError) { report(z.Name, "", "", fe) }
		switch {
		case z.Name == "":
			zoneErr(fieldError{fmt.Sprintf("Zones[%d].Name", zi), "empty zone name"})
		case !strings.HasSuffix(z.Name, "."):
			zoneErr(fieldError{"Name", "zone name must be fully qualified, with a trailing dot"})
		case validHostname(strings.TrimSuffix(z.Name, ".")) != nil:
			zoneErr(fieldError{"Name", validHostname(strings.TrimSuffix(z.Name, ".")).Error()})
		case zoneSeen[zs.name]:
			zoneErr(fieldError{"Name", "duplicate zone"})
		}
		zoneSeen[zs.name] = true
		if len(z.Providers) == 0 {
			zoneErr(fieldError{"Providers", "no provider"})
		}
		needDeleter := false
		for _, r := range z.Records {
			needDeleter = needDeleter || r.Policy.AllDown == PublishNothing
		}
		for pi, p := range z.Providers {
			field := fmt.Sprintf("Providers[%d]", pi)
			if p == nil {
				zoneErr(fieldError{field, "nil provider"})
				continue
			}
			if _, ok := p.(libdns.RecordDeleter); needDeleter && !ok {
				zoneErr(fieldError{field, fmt.Sprintf("%T does not implement libdns.RecordDeleter, needed by AllDown: nothing", p)})
			}
			zs.providers = append(zs.providers, providerSpec{p: p, name: providerName(p, pi), floor: providerFloor(p), auto: providerAutoTTL(p)})
		}
		if len(z.Records) == 0 {
			zoneErr(fieldError{"Records", "no record"})
		}
		zs.propagation = z.CheckPropagation || len(z.Nameservers) > 0
		for i, ns := range z.Nameservers {
			addr, err := nameserverAddr(ns)
			if err != nil {
				zoneErr(fieldError{fmt.Sprintf("Nameservers[%d]", i), err.Error()})
			}
			zs.nameservers = append(zs.nameservers, addr)
		}

		types := map[string][]string{} // name -> types
		for ri, r := range z.Records {
			rs, problems := validateRecord(zs.name, ri, r)
			label := strings.TrimSpace(r.Name + " " + r.Type)
			for _, p := range problems {
				report(z.Name, label, p.endpoint, p.fieldError)
			}
			if rs == nil {
				continue
			}
			for _, t := range types[rs.key.name] {
				switch {
				case t == rs.key.typ:
					report(z.Name, label, "", fieldError{fmt.Sprintf("Records[%d]", ri), "duplicate record"})
				case t == "CNAME" || rs.key.typ == "CNAME":
					report(z.Name, label, "", fieldError{fmt.Sprintf("Records[%d]", ri), fmt.Sprintf("CNAME cannot share a name with %s", t)})
				}
			}
			types[rs.key.name] = append(types[rs.key.name], rs.key.typ)
			zs.records = append(zs.records, rs)
		}
		zones = append(zones, zs)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return zones, nil
}

type endpointError struct {
	endpoint string
	fieldError
}

// validateRecord checks one record of zone. It returns nil when the record
// cannot be identified (bad name or type).
func validateRecord(zone string, ri int, r Record) (*recordSpec, []endpointError) {
	var errs []endpointError
	add := func(endpoint, field, format string, args ...any) {
		errs = append(errs, endpointError{endpoint, fieldError{field, fmt.Sprintf(format, args...)}})
	}
	name, typ := strings.ToLower(r.Name), strings.ToUpper(r.Type)
	ok := true
	switch {
	case name == "":
		add("", fmt.Sprintf("Records[%d].Name", ri), `empty name; use "@" for the apex`)
		ok = false
	case strings.HasSuffix(name, "."):
		add("", "Name", "must be relative to the zone (%q for %s), not fully qualified", libdns.RelativeName(name, zone), name)
		ok = false
	case name == strings.TrimSuffix(zone, ".") || strings.HasSuffix(name, "."+strings.TrimSuffix(zone, ".")):
		add("", "Name", "looks like a full name: it would mean %s; use a name relative to the zone", libdns.AbsoluteName(name, zone))
		ok = false
	case name != "@" && validHostname(name) != nil:
		add("", "Name", "%v", validHostname(name))
		ok = false
	}
	switch typ {
	case "A", "AAAA", "CNAME":
	case "":
		add("", "Type", `empty; want "A", "AAAA" or "CNAME"`)
		ok = false
	default:
		add("", "Type", `unsupported type %q; want "A", "AAAA" or "CNAME"`, r.Type)
		ok = false
	}
	if r.Check == nil {
		add("", "Check", "no checker")
	}
	if len(r.Endpoints) == 0 {
		add("", "Endpoints", "no endpoint")
	}
	p := r.Policy.withDefaults()
	p.Fallback = slices.Clone(p.Fallback) // normalised below; never the caller's slice
	if typ == "CNAME" {
		p.MaxAnswers = 1
	}
	for _, fe := range p.problems(func(v string) error { _, err := normalizeValue(typ, v); return err }) {
		errs = append(errs, endpointError{"", fe})
	}

	rs := &recordSpec{
		id:     RecordID{Zone: zone, Name: name, Type: typ},
		key:    rrKey{name, typ},
		check:  r.Check,
		policy: p,
	}
	for i, fv := range p.Fallback {
		if v, err := normalizeValue(typ, fv); err == nil {
			rs.policy.Fallback[i] = v
		}
	}
	seen := map[string]bool{}
	cnameTiers := map[int]bool{}
	for i, e := range r.Endpoints {
		field := fmt.Sprintf("Endpoints[%d]", i)
		v, err := normalizeValue(typ, e.Value)
		if err != nil {
			if ok {
				add(e.Value, field+".Value", "%v", err)
			}
			continue
		}
		if seen[v] {
			add(e.Value, field+".Value", "duplicate endpoint")
		}
		seen[v] = true
		if typ == "CNAME" {
			if cnameTiers[e.Priority] {
				add(e.Value, field+".Priority", "a CNAME publishes one value: give each endpoint its own priority")
			}
			cnameTiers[e.Priority] = true
		}
		rs.endpoints = append(rs.endpoints, Endpoint{Value: v, Priority: e.Priority})
	}
	if !ok {
		return nil, errs
	}
	return rs, errs
}

// normalizeValue returns v in the form the Manager compares and writes, or
// why it is not a valid value for typ.
func normalizeValue(typ, v string) (string, error) {
	switch typ {
	case "A", "AAAA":
		ip, err := netip.ParseAddr(v)
		switch {
		case err != nil:
			return "", fmt.Errorf("%q is not an IP address", v)
		case typ == "A" && !ip.Is4():
			return "", fmt.Errorf("%q is not an IPv4 address", v)
		case typ == "AAAA" && (!ip.Is6() || ip.Is4In6()):
			return "", fmt.Errorf("%q is not an IPv6 address", v)
		case ip.Zone() != "":
			return "", fmt.Errorf("%q has a zone, which DNS cannot publish", v)
		}
		return ip.String(), nil
	case "CNAME":
		h := strings.ToLower(strings.TrimSuffix(v, "."))
		if err := validHostname(h); err != nil {
			return "", err
		}
		return h + ".", nil
	}
	return "", fmt.Errorf("unsupported type %q", typ)
}

// validHostname reports whether h (without trailing dot) is a DNS name made
// of letters, digits, hyphens and underscores.
func validHostname(h string) error {
	if h == "" {
		return errors.New("empty host name")
	}
	if len(h) > 253 {
		return fmt.Errorf("host name %q is longer than 253 characters", h)
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%q is not a valid host name: label %q must have 1 to 63 characters", h, label)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '*') {
				return fmt.Errorf("%q is not a valid host name: %q is not allowed", h, c)
			}
		}
	}
	return nil
}

// nameserverAddr returns ns ("host" or "host:port") as host:port.
func nameserverAddr(ns string) (string, error) {
	host, port, err := net.SplitHostPort(ns)
	if err != nil {
		host, port = strings.Trim(ns, "[]"), "53"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q: bad port %q", ns, port)
	}
	if _, err := netip.ParseAddr(host); err != nil {
		if err := validHostname(strings.TrimSuffix(host, ".")); err != nil {
			return "", fmt.Errorf("%q is neither an address nor a host name", ns)
		}
	}
	return net.JoinHostPort(host, port), nil
}

// providerName names p, the i-th provider of its zone, in events and
// Status: its Name method if it has one, otherwise its type, with its
// position after the first.
func providerName(p Provider, i int) string {
	if n, ok := p.(interface{ Name() string }); ok && n.Name() != "" {
		return n.Name()
	}
	name := strings.TrimPrefix(fmt.Sprintf("%T", p), "*")
	if i > 0 {
		name += "#" + strconv.Itoa(i)
	}
	return name
}

// providerFloor returns the provider's minimum TTL, or 0.
func providerAutoTTL(p Provider) time.Duration {
	if a, ok := p.(AutomaticTTLProvider); ok {
		return max(a.AutomaticTTL(), 0)
	}
	return 0
}

func providerFloor(p Provider) time.Duration {
	if f, ok := p.(MinTTLProvider); ok {
		return max(f.MinTTL(), 0)
	}
	return 0
}
