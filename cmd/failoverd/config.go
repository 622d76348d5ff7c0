package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/httpapi"
	"github.com/dnsfailover/failover/notify"
	"go.yaml.in/yaml/v3"
)

// fileConfig is failoverd's YAML file: the library's Config, with its
// fields in snake_case, plus the daemon's own settings.
type fileConfig struct {
	failover.Config `yaml:",inline"`
	// Checks are named checks that records refer to by name ("check:
	// web"); every record naming one shares the one checker value, so the
	// engine checks each endpoint once for all of them.
	Checks map[string]failover.Checker `yaml:"checks"`
	// Defaults apply to every record; a record's own policy fields win.
	Defaults defaults `yaml:"defaults"`
	Status   status   `yaml:"status"`
	// Webhooks are notified of failovers, all-down records and provider
	// failures. A webhook's URL is a credential (chat webhooks carry their
	// token in it): url_env or url_file read it like any secret, url
	// writes it in the file, and errors show its scheme and host only.
	// Each is checked as notify.New checks it, so `failoverd check`
	// refuses every webhook `failoverd run` would.
	Webhooks []notify.Webhook `yaml:"webhooks"`
	Log      logSettings      `yaml:"log"`
	// StateFile keeps the operators' state (overrides with their expiry,
	// pending manual failbacks) across restarts: written atomically on
	// every change, read at start. Empty: kept across reloads only. A
	// running failoverd holds an exclusive lock on STATE_FILE.lock, so a
	// second one on the same file refuses to start; a dry run reads the
	// file but neither writes nor locks it. Refused beside cluster:,
	// which keeps that state in etcd.
	StateFile string `yaml:"state_file"`
	// Cluster, when given, makes this failoverd one instance of several
	// on etcd (clusterConfig). It shadows Config.Cluster, which the
	// daemon sets from it.
	Cluster *clusterConfig `yaml:"cluster"`
	// Owner, when set, is this deployment's owner id (letters, digits,
	// '-', '_', '.'): every provider of every zone writes an owner record
	// beside each RRset it writes, and refuses RRsets another owner's
	// record claims (see provider/owner). Empty: no owner records.
	Owner string `yaml:"owner"`
}

// defaults are what a record has when it does not say.
type defaults struct {
	Policy failover.Policy  `yaml:"policy"`
	Check  failover.Checker `yaml:"check"`
}

// status is the listener of the status page, API and /metrics. Its
// operator token comes from token_env or token_file.
type status struct {
	// Listen is host:port; empty: none. Port 0 is refused: it would pick
	// a free port at random, which nothing (a browser, Prometheus) could
	// find.
	Listen string `yaml:"listen"`
	// CertFile and KeyFile, given together, serve HTTPS; both are read
	// again at each reload.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// The server's bounds (zero: the default shown): the request headers
	// must arrive within ReadHeaderTimeout (5s), the request within
	// ReadTimeout (30s), the response be written within WriteTimeout
	// (2m); a kept-alive connection is closed after IdleTimeout (15s)
	// without a request; headers are at most MaxHeaderBytes (64 KiB).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	MaxHeaderBytes    int           `yaml:"max_header_bytes"`
	httpapi.Options   `yaml:",inline"`
}

// logSettings are the daemon's log's format and level.
type logSettings struct {
	Format logFormat  `yaml:"format"`
	Level  slog.Level `yaml:"level"`
}

// logFormat is "text" or "json".
type logFormat string

// UnmarshalText accepts "text" and "json".
func (f *logFormat) UnmarshalText(b []byte) error {
	switch string(b) {
	case "text", "json":
		*f = logFormat(b)
		return nil
	default:
		return fmt.Errorf("%s is not text or json", quote(string(b)))
	}
}

func init() {
	typeHooks[reflect.TypeFor[fileConfig]()] = decodeFile
	typeHooks[reflect.TypeFor[failover.Zone]()] = decodeZone
	typeHooks[reflect.TypeFor[failover.Record]()] = decodeRecord
	typeHooks[reflect.TypeFor[time.Duration]()] = decodeDuration
	typeHooks[reflect.TypeFor[slog.Level]()] = decodeLevel
	typeHooks[reflect.TypeFor[failover.EventKind]()] = decodeEventKind

	fieldRules[reflect.TypeFor[failover.Config]()] = map[string]rule{
		"OnEvent": {deny: true}, // a Go callback: the daemon wires metrics and webhooks
		"Logger":  {deny: true}, // built from log:
		"Cluster": {deny: true}, // built from cluster: (clusterConfig)
		"Quorum":  {deny: true}, // cluster.quorum
	}
	fieldRules[reflect.TypeFor[fileConfig]()] = map[string]rule{
		"Checks":   {decode: decodeNamedChecks},
		"Defaults": {decode: decodeDefaults},
	}
	fieldRules[reflect.TypeFor[httpapi.Options]()] = map[string]rule{
		"Token":  {secret: true}, // token_env or token_file; unset: operator actions refused
		"Logger": {deny: true},   // the daemon's own log carries the audit lines
	}
	fieldRules[reflect.TypeFor[notify.Webhook]()] = map[string]rule{
		"URL":    {secret: true, inline: true, required: true}, // url, url_env or url_file
		"Client": {deny: true},                                 // a Go value: the default client with its timeout
	}
}

// typeHooks decode the types YAML cannot write directly, by type.
var typeHooks = map[reflect.Type]hook{}

// fieldRules are the fields, by struct type and field name, that the file
// writes differently or not at all. A field denied here is not
// configuration (a callback, a client, an interface built by the daemon);
// TestEveryFieldIsSettable fails on any other field the file cannot set.
var fieldRules = map[reflect.Type]map[string]rule{}

// decodeFile decodes the whole file. Named checks and defaults are read
// first, wherever they are in the file, since records refer to them.
func decodeFile(d *decoder, n *yaml.Node, v reflect.Value, l loc) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, l, "want a mapping of settings, not %s", describe(n))
		return
	}
	d.file = v.Addr().Interface().(*fileConfig)
	ordered := *n
	ordered.Content = nil
	for _, first := range []bool{true, false} {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; (k == "checks" || k == "defaults") == first {
				ordered.Content = append(ordered.Content, n.Content[i], n.Content[i+1])
			}
		}
	}
	d.structure(&ordered, v, l)
}

// zoneState is what decoding a zone's records needs of the zone.
type zoneState struct {
	name      string
	providers string // fingerprint of the zone's providers
	index     int
	names     map[string]bool // the providers' names given so far
}

func decodeZone(d *decoder, n *yaml.Node, v reflect.Value, l loc) {
	z := &zoneState{index: len(d.labels)}
	d.labels = append(d.labels, nil)
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch n.Content[i].Value {
			case "name":
				z.name = n.Content[i+1].Value
			case "providers":
				z.providers = fingerprint(n.Content[i+1])
			}
		}
	}
	d.zone = z
	d.structure(n, v, l)
	d.zone = nil
}

// decodeDefaults reads defaults: and fingerprints its policy, and its
// check with the named checks that check uses, for the records that take
// them.
func decodeDefaults(d *decoder, n *yaml.Node, v reflect.Value, l loc) {
	d.uses = nil
	d.decode(n, v, l)
	d.defaultPolicy = fingerprint(value(n, "policy"))
	d.defaultCheck = digest(fingerprint(value(n, "check")), d.used())
}

// decodeRecord decodes a record over the defaults: its policy starts as
// defaults.policy, its check as defaults.check. A problem found in a
// default value is placed where the default is written.
func decodeRecord(d *decoder, n *yaml.Node, v reflect.Value, l loc) {
	r := v.Addr().Interface().(*failover.Record)
	ownCheck := value(n, "check") != nil
	if d.file != nil {
		r.Policy = d.file.Defaults.Policy
		r.Policy.Fallback = slices.Clone(r.Policy.Fallback)
		d.alias[l.gopath+".Policy"] = "Defaults.Policy"
		if !ownCheck {
			r.Check = d.file.Defaults.Check
			d.alias[l.gopath+".Check"] = "Defaults.Check"
		}
	}
	d.uses = nil
	d.structure(n, v, l)
	if d.zone != nil && d.records != nil {
		key := recordKey{strings.ToLower(d.zone.name), strings.ToLower(r.Name), strings.ToUpper(r.Type)}
		check := d.used()
		if !ownCheck {
			check = d.defaultCheck
		}
		d.records[key] = digest(d.zone.providers, fingerprint(n), d.defaultPolicy, check)
	}
}

// value is the value of key in mapping n, or nil.
func value(n *yaml.Node, key string) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func decodeDuration(d *decoder, n *yaml.Node, v reflect.Value, l loc) {
	if !d.scalar(n, l) {
		return
	}
	t, err := time.ParseDuration(n.Value)
	if n.Value == "0" {
		t, err = 0, nil
	}
	if err != nil {
		d.fail(n, l, "%s is not a duration such as \"30s\" or \"5m\"", quote(n.Value))
		return
	}
	v.SetInt(int64(t))
}

func decodeLevel(d *decoder, n *yaml.Node, v reflect.Value, l loc) {
	if !d.scalar(n, l) {
		return
	}
	var level slog.Level
	switch n.Value {
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		d.fail(n, l, "%s is not debug, info, warn or error", quote(n.Value))
		return
	}
	v.Set(reflect.ValueOf(level))
}

// decodeEventKind reads an event kind by the name its String method
// gives, so that the names stay the library's.
func decodeEventKind(d *decoder, n *yaml.Node, v reflect.Value, l loc) {
	if !d.scalar(n, l) {
		return
	}
	var names []string
	for k := failover.EventKind(1); k < 256; k++ {
		name := k.String()
		if strings.HasPrefix(name, "EventKind(") {
			continue
		}
		if name == n.Value {
			v.Set(reflect.ValueOf(k))
			return
		}
		names = append(names, name)
	}
	d.fail(n, l, "%s is not an event kind: %s", quote(n.Value), strings.Join(names, ", "))
}

// loaded is a configuration file read, decoded and validated.
type loaded struct {
	*fileConfig
	// records holds, for each record, a fingerprint of everything in the
	// file that configures it (fingerprint.go), to tell a changed record
	// on reload.
	records map[recordKey]string
	// providers names each zone's providers by their type, in order.
	providers [][]string
	warnings  []string
}

// load reads, decodes and validates the configuration file. With strict
// false (failoverd check in CI), a secret that is not available is a
// warning and a placeholder stands for it; the result must then not run.
func load(ctx context.Context, file string, strict bool) (*loaded, error) {
	data, err := readBounded(file, maxConfigBytes)
	if err != nil {
		return nil, err
	}
	return parse(ctx, file, data, strict)
}

// parse is load of a file's contents: every problem comes back at once,
// one per line, as FILE:LINE:COL: PATH: message.
func parse(ctx context.Context, file string, data []byte, strict bool) (*loaded, error) {
	root, p := parseYAML(data)
	if p != nil {
		return nil, format(file, []problem{*p}, 0)
	}
	d := &decoder{strict: strict, at: map[string]position{}, alias: map[string]string{}, named: map[string]namedCheck{}, records: map[recordKey]string{}, ctx: ctx}
	fc := &fileConfig{}
	d.decode(root, reflect.ValueOf(fc).Elem(), loc{})
	d.validate(fc)
	var warnings []string
	var errs []problem
	for _, p := range d.problems {
		if p.warning {
			warnings = append(warnings, format(file, []problem{p}, 0).Error())
		} else {
			errs = append(errs, p)
		}
	}
	if len(errs) > 0 || d.dropped > 0 {
		return nil, format(file, errs, d.dropped)
	}
	return &loaded{fileConfig: fc, records: d.records, providers: d.labels, warnings: warnings}, nil
}

// validate checks what decoding cannot: the daemon's own settings, then
// the library's validation, each problem placed in the file. The library
// runs even when decoding found problems, so that every problem comes
// back at once; what it finds inside a value decoding already refused
// (or around it) is left out, as a consequence of that refusal.
func (d *decoder) validate(fc *fileConfig) {
	if fc.Status.Listen != "" {
		if err := checkListen(fc.Status.Listen); err != nil {
			d.failAt("Status.Listen", err.Error())
		}
	}
	d.validateStatus(fc.Status)
	d.validateCluster(fc)
	if fc.StateFile != "" {
		if st, err := os.Stat(filepath.Dir(fc.StateFile)); err != nil || !st.IsDir() {
			d.warnAt("StateFile", fmt.Sprintf("%s: its directory does not exist", quote(fc.StateFile)))
		}
	}
	for i, w := range fc.Webhooks {
		d.validateWebhook(i, w)
	}
	if d.dropped > 0 {
		return // the report is full
	}
	var refused []string // the paths of the values decoding refused
	for _, p := range d.problems {
		if !p.warning && !p.aside {
			refused = append(refused, p.path)
		}
	}
	d.applyOwner(fc)
	cfg := fc.Config
	cfg.Logger, cfg.OnEvent = nil, nil
	_, err := failover.New(cfg)
	idx := newConfigIndex(fc)
	for _, e := range unjoin(err) {
		var ce *failover.ConfigError
		if !errors.As(e, &ce) {
			if len(refused) == 0 {
				d.report(problem{line: 1, col: 1, msg: e.Error()})
			}
			continue
		}
		if len(d.problems) >= maxProblems {
			d.dropped++
			continue
		}
		p := d.nearest(idx.path(ce))
		if slices.ContainsFunc(refused, func(r string) bool { return within(r, p.path) || within(p.path, r) }) {
			continue
		}
		p.msg = ce.Msg
		if ce.Record != "" && !strings.HasPrefix(p.path, "zones[") { // a default or a named check
			p.msg += fmt.Sprintf(" (record %s in zone %s)", clip(ce.Record, 100), clip(ce.Zone, 100))
		}
		d.report(p)
	}
}

// within reports whether the YAML path inner is outer or inside it; the
// empty path is the whole file.
func within(outer, inner string) bool {
	rest, ok := strings.CutPrefix(inner, outer)
	return ok && (outer == "" || rest == "" || rest[0] == '.' || rest[0] == '[')
}

// warnAt is failAt for what production has and CI may not (a directory,
// a certificate): a warning in a check without -strict.
func (d *decoder) warnAt(gopath, msg string) {
	p := d.nearest(gopath)
	p.msg, p.warning = msg, !d.strict
	d.report(p)
}

// validateStatus checks the status listener's TLS files and bounds. A
// certificate that cannot be read is a warning in a check without
// -strict, as CI does not have production's files.
func (d *decoder) validateStatus(s status) {
	switch {
	case (s.CertFile == "") != (s.KeyFile == ""):
		d.failAt("Status.CertFile", "cert_file and key_file go together: give both to serve HTTPS, or neither")
	case s.CertFile != "":
		if _, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile); err != nil {
			d.warnAt("Status.CertFile", clip(err.Error(), 300))
		}
	}
	for field, v := range map[string]time.Duration{"ReadHeaderTimeout": s.ReadHeaderTimeout, "ReadTimeout": s.ReadTimeout, "WriteTimeout": s.WriteTimeout, "IdleTimeout": s.IdleTimeout} {
		if v < 0 {
			d.failAt("Status."+field, fmt.Sprintf("%v is negative", v))
		}
	}
	if s.MaxHeaderBytes < 0 {
		d.failAt("Status.MaxHeaderBytes", fmt.Sprintf("%d is negative", s.MaxHeaderBytes))
	}
}

// checkListen checks a host:port address to listen on.
func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s is not host:port", quote(addr))
	}
	if port == "0" {
		return fmt.Errorf("%s: port 0 would be a free port picked at random, which nothing could find; give the port to listen on", quote(addr))
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%s: port %s is not 1-65535", quote(addr), quote(port))
	}
	if host != "" && net.ParseIP(host) == nil && strings.ContainsAny(host, " /") {
		return fmt.Errorf("%s: %s is not a host", quote(addr), quote(host))
	}
	return nil
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// configIndex finds the zones and records a ConfigError names (by zone
// name and "name type", the first of that name), built in one pass so that
// placing every error of a large file stays linear.
type configIndex struct {
	zones   map[string]int
	records []map[string]int // per zone
}

func newConfigIndex(fc *fileConfig) configIndex {
	idx := configIndex{zones: map[string]int{}, records: make([]map[string]int, len(fc.Zones))}
	for zi, z := range fc.Zones {
		if _, dup := idx.zones[z.Name]; !dup {
			idx.zones[z.Name] = zi
		}
		idx.records[zi] = map[string]int{}
		for ri, r := range z.Records {
			label := strings.TrimSpace(r.Name + " " + r.Type)
			if _, dup := idx.records[zi][label]; !dup {
				idx.records[zi][label] = ri
			}
		}
	}
	return idx
}

// path is the Go path, from the file's root, of the field a ConfigError
// names: its Field is relative to its record, or zone, or to the Config,
// whichever it names.
func (idx configIndex) path(ce *failover.ConfigError) string {
	if ce.Zone == "" || strings.HasPrefix(ce.Field, "Zones[") {
		return ce.Field
	}
	zi, ok := idx.zones[ce.Zone]
	if !ok {
		return ce.Field
	}
	zone := fmt.Sprintf("Zones[%d]", zi)
	if ce.Record == "" || strings.HasPrefix(ce.Field, "Records[") {
		return zone + "." + ce.Field
	}
	ri, ok := idx.records[zi][ce.Record]
	if !ok {
		return zone + "." + ce.Field
	}
	return fmt.Sprintf("%s.Records[%d].%s", zone, ri, ce.Field)
}

// format turns problems into one error, one line each, in the order of
// the file, each bounded in length.
func format(file string, ps []problem, dropped int) error {
	slices.SortStableFunc(ps, func(a, b problem) int {
		if a.line != b.line {
			return a.line - b.line
		}
		return a.col - b.col
	})
	ps = slices.Compact(ps) // a default's problem is found once per record using it
	var errs []error
	for _, p := range ps {
		kind := ""
		if p.warning {
			kind = "warning: "
		}
		path := ""
		if p.path != "" {
			path = clip(p.path, 200) + ": "
		}
		errs = append(errs, fmt.Errorf("%s:%d:%d: %s%s%s", file, p.line, p.col, kind, path, clip(p.msg, 400)))
	}
	if dropped > 0 {
		errs = append(errs, fmt.Errorf("%s: and more problems: only the first %d are shown", file, maxProblems))
	}
	return errors.Join(errs...)
}
