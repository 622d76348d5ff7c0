package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// fileConfig is failoverd's YAML file: the library's Config with the same
// names, in snake_case, plus the daemon's own settings.
type fileConfig struct {
	Zones               []zoneConfig    `yaml:"zones"`
	DryRun              bool            `yaml:"dry_run"`
	ReconcileInterval   duration        `yaml:"reconcile_interval"`
	PropagationTimeout  duration        `yaml:"propagation_timeout"`
	PropagationInterval duration        `yaml:"propagation_interval"`
	Status              statusConfig    `yaml:"status"`
	Webhooks            []webhookConfig `yaml:"webhooks"`
	Log                 logConfig       `yaml:"log"`
}

type statusConfig struct {
	Listen    string `yaml:"listen"`     // address of /status, /, /metrics; empty: none
	TokenEnv  string `yaml:"token_env"`  // environment variable holding the operator token
	TokenFile string `yaml:"token_file"` // or a file holding it
}

type webhookConfig struct {
	URL    string `yaml:"url"`
	Format string `yaml:"format"` // generic, slack, discord
}

type logConfig struct {
	Format string `yaml:"format"` // text (default) or json
	Level  string `yaml:"level"`  // debug, info (default), warn, error
}

type zoneConfig struct {
	Name             string           `yaml:"name"`
	Providers        []providerConfig `yaml:"providers"`
	Records          []recordConfig   `yaml:"records"`
	Nameservers      []string         `yaml:"nameservers"`
	CheckPropagation bool             `yaml:"check_propagation"`
}

// providerConfig names one provider. Secrets are never inline: they come
// from an environment variable (…_env) or a file (…_file).
type providerConfig struct {
	Type string `yaml:"type"` // cloudflare, route53, rfc2136, powerdns

	// cloudflare
	APITokenEnv  string `yaml:"api_token_env"`
	APITokenFile string `yaml:"api_token_file"`
	Enterprise   bool   `yaml:"enterprise"`
	// route53
	Region       string `yaml:"region"`
	Profile      string `yaml:"profile"`
	HostedZoneID string `yaml:"hosted_zone_id"`
	WaitForSync  bool   `yaml:"wait_for_sync"`
	// rfc2136
	Server     string `yaml:"server"`
	KeyName    string `yaml:"key_name"`
	KeyAlg     string `yaml:"key_alg"`
	SecretEnv  string `yaml:"secret_env"`
	SecretFile string `yaml:"secret_file"`
	// powerdns
	URL        string `yaml:"url"`
	ServerID   string `yaml:"server_id"`
	APIKeyEnv  string `yaml:"api_key_env"`
	APIKeyFile string `yaml:"api_key_file"`
}

type recordConfig struct {
	Name      string           `yaml:"name"`
	Type      string           `yaml:"type"`
	Endpoints []endpointConfig `yaml:"endpoints"`
	Check     checkConfig      `yaml:"check"`
	Policy    policyConfig     `yaml:"policy"`
}

type endpointConfig struct {
	Value    string `yaml:"value"`
	Priority int    `yaml:"priority"`
}

type checkConfig struct {
	Type string `yaml:"type"` // http, https, tcp, tls, dns, icmp, exec, grpc, all, any, at_least

	Checks  []checkConfig `yaml:"checks"`  // all, any, at_least
	Need    int           `yaml:"need"`    // at_least
	Service string        `yaml:"service"` // grpc

	Port               int               `yaml:"port"`
	Host               string            `yaml:"host"`
	Path               string            `yaml:"path"`
	Method             string            `yaml:"method"`
	Headers            map[string]string `yaml:"headers"`
	Body               string            `yaml:"body"`
	ExpectStatus       string            `yaml:"expect_status"`
	BodyContains       string            `yaml:"body_contains"`
	BodyNotContains    string            `yaml:"body_not_contains"`
	BodyMatches        string            `yaml:"body_matches"`
	BodyNotMatches     string            `yaml:"body_not_matches"`
	FollowRedirects    bool              `yaml:"follow_redirects"`
	KeepAlive          bool              `yaml:"keep_alive"`
	Watching           bool              `yaml:"watching"`
	Send               string            `yaml:"send"`
	Expect             string            `yaml:"expect"`
	ExpectMatches      string            `yaml:"expect_matches"`
	TLS                bool              `yaml:"tls"` // tcp: TLS on the connection
	CAFile             string            `yaml:"ca_file"`
	ExpiryWindow       duration          `yaml:"expiry_window"`
	InsecureSkipVerify bool              `yaml:"insecure_skip_verify"`
	Name               string            `yaml:"name"`        // dns
	RecordType         string            `yaml:"record_type"` // dns
	Rcode              string            `yaml:"rcode"`       // dns
	Count              int               `yaml:"count"`       // icmp
	MaxLost            int               `yaml:"max_lost"`    // icmp
	Command            string            `yaml:"command"`     // exec
	Args               []string          `yaml:"args"`        // exec
	WarningFails       bool              `yaml:"warning_fails"`
}

type policyConfig struct {
	Interval          duration `yaml:"interval"`
	Timeout           duration `yaml:"timeout"`
	Jitter            duration `yaml:"jitter"`
	FailAfter         int      `yaml:"fail_after"`
	RecoverAfter      int      `yaml:"recover_after"`
	FastInterval      duration `yaml:"fast_interval"`
	ConfirmInterval   duration `yaml:"confirm_interval"`
	FailbackDelay     duration `yaml:"failback_delay"`
	ManualFailback    bool     `yaml:"manual_failback"`
	MinHealthy        int      `yaml:"min_healthy"`
	MaxAnswers        int      `yaml:"max_answers"`
	AllDown           string   `yaml:"all_down"`
	Fallback          []string `yaml:"fallback"`
	TTL               duration `yaml:"ttl"`
	FailoverTTL       duration `yaml:"failover_ttl"`
	StableAfter       duration `yaml:"stable_after"`
	LowerTTLOnFailing bool     `yaml:"lower_ttl_on_failing"`
}

// duration is a time.Duration written as "30s" or "5m".
type duration time.Duration

func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d:%d: %q is not a duration such as \"30s\" or \"5m\"", n.Line, n.Column, n.Value)}}
	}
	*d = duration(v)
	return nil
}

// positions maps field paths ("zones[0].records[2].endpoints[0].value") to
// where they are in the file.
type positions map[string][2]int

// loadConfig reads and strictly parses file: every problem is reported at
// once, each as "FILE:LINE:COL: PATH: message".
func loadConfig(file string) (*fileConfig, positions, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	return parseConfig(file, data)
}

func parseConfig(file string, data []byte) (*fileConfig, positions, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil, fmt.Errorf("%s: empty configuration", file)
	}
	pos := positions{}
	var errs []error
	walk(file, doc.Content[0], reflect.TypeOf(fileConfig{}), "", pos, &errs)
	var cfg fileConfig
	if err := doc.Content[0].Decode(&cfg); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, msg := range te.Errors {
				errs = append(errs, pos.locate(file, msg))
			}
		} else {
			errs = append(errs, fmt.Errorf("%s: %w", file, err))
		}
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return &cfg, pos, nil
}

// walk records the position of every field and reports keys that t does
// not have, with their position and path.
func walk(file string, n *yaml.Node, t reflect.Type, path string, pos positions, errs *[]error) {
	pos[path] = [2]int{n.Line, n.Column}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			if tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]; tag != "" {
				fields[tag] = t.Field(i).Type
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			sub := strings.TrimPrefix(path+"."+k.Value, ".")
			ft, ok := fields[k.Value]
			if !ok {
				*errs = append(*errs, fmt.Errorf("%s:%d:%d: %s: unknown field", file, k.Line, k.Column, sub))
				continue
			}
			walk(file, v, ft, sub, pos, errs)
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, v := range n.Content {
			walk(file, v, t.Elem(), fmt.Sprintf("%s[%d]", path, i), pos, errs)
		}
	}
}

// yamlPath turns a library field path ("Endpoints[1].Value",
// "Policy.FailoverTTL") into the file's ("endpoints[1].value",
// "policy.failover_ttl").
func yamlPath(field string) string {
	parts := strings.Split(field, ".")
	for i, p := range parts {
		name, index, _ := strings.Cut(p, "[")
		parts[i] = snake(name)
		if index != "" {
			parts[i] += "[" + index
		}
	}
	return strings.Join(parts, ".")
}

// snake turns a Go name into snake_case: FailoverTTL → failover_ttl.
func snake(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		upper := unicode.IsUpper(c)
		if i > 0 && upper && (unicode.IsLower(r[i-1]) || i+1 < len(r) && unicode.IsLower(r[i+1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// locate places a YAML decoding message ("line 5: cannot unmarshal …" or
// "line 5:7: …") at the deepest field on that line (and column).
func (pos positions) locate(file, msg string) error {
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return fmt.Errorf("%s: %s", file, msg)
	}
	where, text, _ := strings.Cut(rest, ": ")
	lineStr, colStr, hasCol := strings.Cut(where, ":")
	line, _ := strconv.Atoi(lineStr)
	col, _ := strconv.Atoi(colStr)
	best := ""
	for p, lc := range pos {
		if lc[0] == line && (!hasCol || lc[1] == col) && len(p) >= len(best) {
			best = p
		}
	}
	if best == "" {
		return fmt.Errorf("%s:%d: %s", file, line, text)
	}
	return fmt.Errorf("%s:%d:%d: %s: %s", file, line, pos[best][1], best, text)
}

// at formats a problem at path, with the position of the nearest field
// the file has.
func (pos positions) at(file, path, msg string) error {
	for p := path; ; {
		if lc, ok := pos[p]; ok {
			return fmt.Errorf("%s:%d:%d: %s: %s", file, lc[0], lc[1], path, msg)
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return fmt.Errorf("%s: %s: %s", file, path, msg)
		}
		p = p[:i]
	}
}
