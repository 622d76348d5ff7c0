package failover

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dnsfailover/failover/internal/dnsname"
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
		{"StopTimeout", cfg.StopTimeout},
	} {
		if d.v < 0 {
			report("", "", "", fieldError{d.name, fmt.Sprintf("negative duration %v", d.v)})
		}
		if fe, bad := unitsMistake(d.name, d.v); bad {
			report("", "", "", fe)
		}
	}
	d := cfg.withDefaults()
	for _, o := range []struct {
		name, capName string
		v, limit      time.Duration
		defaulted     bool
	}{
		{"RetryBackoff", "MaxRetryBackoff", d.RetryBackoff, d.MaxRetryBackoff, cfg.MaxRetryBackoff == 0},
		{"PropagationInterval", "PropagationTimeout", d.PropagationInterval, d.PropagationTimeout, cfg.PropagationTimeout == 0},
	} {
		if o.limit > 0 && o.v > o.limit {
			note := ""
			if o.defaulted {
				note = " (the default)"
			}
			report("", "", "", fieldError{o.name, fmt.Sprintf("%v is more than %s %v%s", o.v, o.capName, o.limit, note)})
		}
	}
	if cfg.EventBuffer < 0 {
		report("", "", "", fieldError{"EventBuffer", fmt.Sprintf("%d is negative", cfg.EventBuffer)})
	}
	if cfg.MaxChecks < 0 {
		report("", "", "", fieldError{"MaxChecks", fmt.Sprintf("%d is negative", cfg.MaxChecks)})
	}
	if len(cfg.Zones) == 0 {
		report("", "", "", fieldError{"Zones", "no zone to manage"})
	}
	for _, fe := range clusterProblems(cfg.Cluster, cfg.Quorum, d.ProviderTimeout) {
		report("", "", "", fe)
	}

	var zones []*zoneSpec
	type placedRecord struct {
		zone, label string // as given, for the error
		rs          *recordSpec
	}
	var placed []placedRecord
	zoneSeen := map[string]bool{}
	checked := checkerErrors{}
	for zi, z := range cfg.Zones {
		zs := &zoneSpec{name: strings.ToLower(z.Name)}
		zoneErr := func(fe fieldError) { report(z.Name, "", "", fe) }
		nameErr := dnsname.Check(strings.TrimSuffix(z.Name, "."), false)
		switch {
		case z.Name == "":
			zoneErr(fieldError{fmt.Sprintf("Zones[%d].Name", zi), "empty zone name"})
		case !strings.HasSuffix(z.Name, "."):
			zoneErr(fieldError{"Name", "zone name must be fully qualified, with a trailing dot"})
		case nameErr != nil:
			zoneErr(fieldError{"Name", nameErr.Error()})
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
		providerSeen := map[Provider]int{}
		for pi, p := range z.Providers {
			field := fmt.Sprintf("Providers[%d]", pi)
			if isNil(p) {
				msg := "nil provider"
				if p != nil {
					msg = fmt.Sprintf("nil provider (a nil %T)", p)
				}
				zoneErr(fieldError{field, msg})
				continue
			}
			if reflect.ValueOf(p).Comparable() {
				if first, dup := providerSeen[p]; dup {
					zoneErr(fieldError{field, fmt.Sprintf("the same provider as Providers[%d]: the zone would be written twice", first)})
					continue
				}
				providerSeen[p] = pi
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
		nsSeen := map[string]bool{}
		for i, ns := range z.Nameservers {
			addr, err := nameserverAddr(ns)
			switch {
			case err != nil:
				zoneErr(fieldError{fmt.Sprintf("Nameservers[%d]", i), err.Error()})
			case nsSeen[strings.ToLower(addr)]:
				zoneErr(fieldError{fmt.Sprintf("Nameservers[%d]", i), fmt.Sprintf("duplicate nameserver %s", addr)})
			}
			nsSeen[strings.ToLower(addr)] = true
			zs.nameservers = append(zs.nameservers, addr)
		}

		types := map[string][]string{} // name -> types
		for ri, r := range z.Records {
			rs, problems := validateRecord(zs.name, ri, r, checked)
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
			placed = append(placed, placedRecord{z.Name, label, rs})
		}
		zones = append(zones, zs)
	}
	for _, pr := range placed {
		if fe, bad := outsideItsZone(pr.rs, zones); bad {
			report(pr.zone, pr.label, "", fe)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return zones, nil
}

// checkerErrors remembers what validateChecker said of each comparable
// checker, so that a checker shared by many records (one large composite,
// say) is validated once.
type checkerErrors map[Checker]error

func (c checkerErrors) validate(ch Checker) error {
	if ch == nil || !reflect.ValueOf(ch).Comparable() {
		return validateChecker(ch)
	}
	if err, ok := c[ch]; ok {
		return err
	}
	err := validateChecker(ch)
	c[ch] = err
	return err
}

type endpointError struct {
	endpoint string
	fieldError
}

// validateRecord checks one record of zone. It returns nil when the record
// cannot be identified (bad name or type).
func validateRecord(zone string, ri int, r Record, checked checkerErrors) (*recordSpec, []endpointError) {
	var errs []endpointError
	add := func(endpoint, field, format string, args ...any) {
		errs = append(errs, endpointError{endpoint, fieldError{field, fmt.Sprintf(format, args...)}})
	}
	name, typ := strings.ToLower(r.Name), strings.ToUpper(r.Type)
	fqdn := libdns.AbsoluteName(name, zone)
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
	case name != "@" && dnsname.Check(name, true) != nil:
		add("", "Name", "%v", dnsname.Check(name, true))
		ok = false
	case len(fqdn) > dnsname.MaxName+1: // +1: the trailing dot
		add("", "Name", "%s has %d characters, more than %d", dnsname.Quote(fqdn), len(fqdn)-1, dnsname.MaxName)
		ok = false
	}
	switch typ {
	case "A", "AAAA", "CNAME":
	case "":
		add("", "Type", `empty; want "A", "AAAA" or "CNAME"`)
		ok = false
	default:
		add("", "Type", `unsupported type %q; want "A", "AAAA" or "CNAME"`, dnsname.Quote(r.Type))
		ok = false
	}
	if name == "@" && typ == "CNAME" {
		add("", "Type", "a CNAME cannot be at the zone apex, which holds the zone's SOA and NS records")
	}
	for _, err := range splitJoined(checked.validate(r.Check)) {
		add("", "Check", "%v", err)
	}
	if len(r.Endpoints) == 0 {
		add("", "Endpoints", "no endpoint")
	}
	p := r.Policy.withDefaults()
	p.Fallback = slices.Clone(p.Fallback) // normalised below; never the caller's slice
	if typ == "CNAME" {
		p.MaxAnswers = 1
	}
	for _, fe := range p.problems(func(v string) error { _, err := configValue(typ, fqdn, v); return err }) {
		errs = append(errs, endpointError{"", fe})
	}
	for _, fe := range policyBounds(r.Policy, p) {
		errs = append(errs, endpointError{"", fe})
	}
	if typ == "CNAME" && len(p.Fallback) > 1 {
		add("", "Policy.Fallback", "%d values, but a CNAME publishes one value", len(p.Fallback))
	}

	rs := &recordSpec{
		id:     RecordID{Zone: zone, Name: name, Type: typ},
		key:    rrKey{name, typ},
		check:  r.Check,
		policy: p,
	}
	for i, fv := range p.Fallback {
		if v, err := configValue(typ, fqdn, fv); err == nil {
			rs.policy.Fallback[i] = v
		}
	}
	seen := map[string]bool{}
	cnameTiers := map[int]bool{}
	for i, e := range r.Endpoints {
		field := fmt.Sprintf("Endpoints[%d]", i)
		v, err := configValue(typ, fqdn, e.Value)
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
		if err := dnsname.Check(h, false); err != nil {
			return "", err
		}
		return h + ".", nil
	}
	return "", fmt.Errorf("unsupported type %q", typ)
}

// configValue is normalizeValue for a value given in the configuration of
// the record named fqdn, with what only a configuration gets wrong: an
// unspecified address, a CNAME to an IP address or to itself.
func configValue(typ, fqdn, v string) (string, error) {
	n, err := normalizeValue(typ, v)
	if err != nil {
		return "", err
	}
	switch typ {
	case "A", "AAAA":
		if netip.MustParseAddr(n).IsUnspecified() {
			return "", fmt.Errorf("%s is the unspecified address, which no client can reach", n)
		}
	case "CNAME":
		if _, err := netip.ParseAddr(strings.TrimSuffix(n, ".")); err == nil {
			return "", fmt.Errorf("%q is an IP address: a CNAME points to a host name (publish an address with an A or AAAA record)", dnsname.Quote(v))
		}
		if n == strings.ToLower(fqdn) {
			return "", fmt.Errorf("%q points to the record itself", dnsname.Quote(v))
		}
	}
	return n, nil
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
		if err := dnsname.Check(strings.TrimSuffix(host, "."), false); err != nil {
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

// minDuration is the shortest pace New accepts for the durations that set
// how often something happens or how long it may take: below it, a
// duration is surely a units mistake (a time.Duration counts nanoseconds:
// Interval: 5 is 5 ns, not 5 s).
const minDuration = time.Millisecond

// maxTTL is the largest TTL DNS can carry: 2^31-1 seconds (RFC 2181).
const maxTTL = (1<<31 - 1) * time.Second

// unitsMistake reports a duration field set between 0 and minDuration.
func unitsMistake(field string, v time.Duration) (fieldError, bool) {
	if v > 0 && v < minDuration {
		return fieldError{field, fmt.Sprintf("%v is below %v: a units mistake? (a time.Duration counts nanoseconds)", v, minDuration)}, true
	}
	return fieldError{}, false
}

// policyBounds returns what New rejects in a record's policy beyond
// Policy's own rules: a pace set below minDuration (raw, as given) and
// TTLs above maxTTL (p, with defaults).
func policyBounds(raw, p Policy) []fieldError {
	var errs []fieldError
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"Interval", raw.Interval}, {"Timeout", raw.Timeout}, {"FastInterval", raw.FastInterval}, {"ConfirmInterval", raw.ConfirmInterval},
	} {
		if fe, bad := unitsMistake("Policy."+d.name, d.v); bad {
			errs = append(errs, fe)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"TTL", p.TTL}, {"FailoverTTL", p.FailoverTTL}} {
		if d.v > maxTTL {
			errs = append(errs, fieldError{"Policy." + d.name, fmt.Sprintf("%ds is more than %ds (2^31-1 s), the largest TTL DNS carries", d.v/time.Second, maxTTL/time.Second)})
		}
	}
	return errs
}

// outsideItsZone reports a record whose name lies inside another managed
// zone, deeper than its own: below that zone's cut, resolvers never see
// it. The same name and type managed in both zones is named as such.
func outsideItsZone(rs *recordSpec, zones []*zoneSpec) (fieldError, bool) {
	fqdn := strings.ToLower(libdns.AbsoluteName(rs.id.Name, rs.id.Zone))
	var deepest *zoneSpec
	for _, z := range zones {
		if (fqdn == z.name || strings.HasSuffix(fqdn, "."+z.name)) && (deepest == nil || len(z.name) > len(deepest.name)) {
			deepest = z
		}
	}
	if deepest == nil || deepest.name == rs.id.Zone {
		return fieldError{}, false
	}
	for _, other := range deepest.records {
		if strings.ToLower(libdns.AbsoluteName(other.id.Name, other.id.Zone)) == fqdn && other.id.Type == rs.id.Type {
			return fieldError{"Name", fmt.Sprintf("%s %s is also managed in zone %q", fqdn, rs.id.Type, deepest.name)}, true
		}
	}
	return fieldError{"Name", fmt.Sprintf("%s is inside zone %q, also managed here: in zone %q it is below the zone cut, and resolvers never see it", fqdn, deepest.name, rs.id.Zone)}, true
}

// splitJoined returns the errors joined in err by errors.Join (at any
// depth), each on its own, or err alone; nil gives none.
func splitJoined(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	inner := j.Unwrap()
	msgs := make([]string, len(inner))
	for i, e := range inner {
		msgs[i] = e.Error()
	}
	if strings.Join(msgs, "\n") != err.Error() { // not errors.Join: keep its message whole
		return []error{err}
	}
	var out []error
	for _, e := range inner {
		out = append(out, splitJoined(e)...)
	}
	return out
}
