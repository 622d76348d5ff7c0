package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/check"
	"github.com/dnsfailover/failover/check/grpccheck"
	"github.com/dnsfailover/failover/provider/cloudflare"
	"github.com/dnsfailover/failover/provider/powerdns"
	"github.com/dnsfailover/failover/provider/rfc2136"
	"github.com/dnsfailover/failover/provider/route53"
)

// builder turns a parsed file into the library's Config, collecting every
// problem with its position.
type builder struct {
	file string
	pos  positions
	errs []error
}

func (b *builder) fail(path, format string, args ...any) {
	b.errs = append(b.errs, b.pos.at(b.file, path, fmt.Sprintf(format, args...)))
}

// secret reads a credential from an environment variable or a file; it is
// never written in the configuration itself.
func (b *builder) secret(path, env, file string) string {
	base := path[strings.LastIndex(path, ".")+1:]
	switch {
	case env != "" && file != "":
		b.fail(path+"_env", "give %s_env or %s_file, not both", base, base)
	case env != "":
		if v := os.Getenv(env); v != "" {
			return v
		}
		b.fail(path+"_env", "environment variable %s is empty or unset", env)
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			b.fail(path+"_file", "%v", err)
			return ""
		}
		return strings.TrimSpace(string(data))
	default:
		b.fail(path+"_env", "missing: the secret comes from an environment variable (%s_env) or a file (%s_file)", base, base)
	}
	return ""
}

// build returns the library Config for fc.
func build(ctx context.Context, file string, fc *fileConfig, pos positions) (failover.Config, error) {
	b := &builder{file: file, pos: pos}
	cfg := failover.Config{
		DryRun:              fc.DryRun,
		ReconcileInterval:   time.Duration(fc.ReconcileInterval),
		PropagationTimeout:  time.Duration(fc.PropagationTimeout),
		PropagationInterval: time.Duration(fc.PropagationInterval),
	}
	for zi, z := range fc.Zones {
		zp := fmt.Sprintf("zones[%d]", zi)
		zone := failover.Zone{Name: z.Name, Nameservers: z.Nameservers, CheckPropagation: z.CheckPropagation}
		for pi, p := range z.Providers {
			if prov := b.provider(ctx, fmt.Sprintf("%s.providers[%d]", zp, pi), p); prov != nil {
				zone.Providers = append(zone.Providers, prov)
			}
		}
		for ri, r := range z.Records {
			rp := fmt.Sprintf("%s.records[%d]", zp, ri)
			rec := failover.Record{Name: r.Name, Type: r.Type, Check: b.check(rp+".check", r.Check), Policy: b.policy(rp+".policy", r.Policy)}
			for _, e := range r.Endpoints {
				rec.Endpoints = append(rec.Endpoints, failover.Endpoint{Value: e.Value, Priority: e.Priority})
			}
			zone.Records = append(zone.Records, rec)
		}
		cfg.Zones = append(cfg.Zones, zone)
	}
	if len(b.errs) > 0 {
		return cfg, errors.Join(b.errs...)
	}
	return cfg, nil
}

func (b *builder) provider(ctx context.Context, path string, p providerConfig) failover.Provider {
	switch p.Type {
	case "cloudflare":
		token := b.secret(path+".api_token", p.APITokenEnv, p.APITokenFile)
		if token == "" {
			return nil
		}
		cf, err := cloudflare.New(token, cloudflare.Options{Enterprise: p.Enterprise})
		if err != nil {
			b.fail(path, "%v", err)
			return nil
		}
		return cf
	case "route53":
		opts := route53.Options{Region: p.Region, Profile: p.Profile, WaitForSync: p.WaitForSync}
		r53, err := route53.New(ctx, opts)
		if err != nil {
			b.fail(path, "%v", err)
			return nil
		}
		return r53
	case "rfc2136":
		secret := b.secret(path+".secret", p.SecretEnv, p.SecretFile)
		if p.Server == "" {
			b.fail(path+".server", "missing: the primary server's host:port")
		}
		if p.KeyName == "" {
			b.fail(path+".key_name", "missing: the TSIG key's name")
		}
		alg := p.KeyAlg
		if alg == "" {
			alg = "hmac-sha256"
		}
		return &rfc2136.Provider{Server: p.Server, KeyName: p.KeyName, KeyAlg: alg, Key: secret}
	case "powerdns":
		key := b.secret(path+".api_key", p.APIKeyEnv, p.APIKeyFile)
		if p.URL == "" {
			b.fail(path+".url", "missing: the API's URL, such as http://127.0.0.1:8081")
			return nil
		}
		if key == "" {
			return nil
		}
		pdns, err := powerdns.New(p.URL, key, powerdns.Options{ServerID: p.ServerID})
		if err != nil {
			b.fail(path+".url", "%v", err)
			return nil
		}
		return pdns
	case "":
		b.fail(path+".type", "missing: cloudflare, route53, rfc2136 or powerdns")
	default:
		b.fail(path+".type", "%q is not cloudflare, route53, rfc2136 or powerdns", p.Type)
	}
	return nil
}

func (b *builder) regexp(path, expr string) *regexp.Regexp {
	if expr == "" {
		return nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		b.fail(path, "%v", err)
	}
	return re
}

func (b *builder) tlsOptions(path string, c checkConfig) check.TLSOptions {
	o := check.TLSOptions{ExpiryWindow: time.Duration(c.ExpiryWindow), InsecureSkipVerify: c.InsecureSkipVerify}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			b.fail(path+".ca_file", "%v", err)
			return o
		}
		o.RootCAs = x509.NewCertPool()
		if !o.RootCAs.AppendCertsFromPEM(pem) {
			b.fail(path+".ca_file", "%s holds no PEM certificate", c.CAFile)
		}
	}
	return o
}

func (b *builder) check(path string, c checkConfig) failover.Checker {
	switch c.Type {
	case "http", "https":
		h := &check.HTTP{
			Scheme: c.Type, Port: c.Port, Method: c.Method, Path: c.Path, Host: c.Host, Body: c.Body,
			BodyContains: c.BodyContains, BodyNotContains: c.BodyNotContains,
			BodyMatches: b.regexp(path+".body_matches", c.BodyMatches), BodyNotMatches: b.regexp(path+".body_not_matches", c.BodyNotMatches),
			FollowRedirects: c.FollowRedirects, KeepAlive: c.KeepAlive, Watching: c.Watching,
			TLS: b.tlsOptions(path, c),
		}
		if len(c.Headers) > 0 {
			h.Header = http.Header{}
			for k, v := range c.Headers {
				h.Header.Set(k, v)
			}
		}
		if c.ExpectStatus != "" {
			codes, err := check.ParseStatusCodes(c.ExpectStatus)
			if err != nil {
				b.fail(path+".expect_status", "%v", err)
			}
			h.ExpectStatus = codes
		}
		return h
	case "tcp":
		t := &check.TCP{Port: c.Port, Send: c.Send, Expect: c.Expect, ExpectMatches: b.regexp(path+".expect_matches", c.ExpectMatches), Host: c.Host, Watching: c.Watching}
		if c.TLS {
			o := b.tlsOptions(path, c)
			t.TLS = &o
		}
		if c.Port == 0 {
			b.fail(path+".port", "missing: the port to connect to")
		}
		return t
	case "tls":
		return &check.TLS{Port: c.Port, Host: c.Host, TLS: b.tlsOptions(path, c)}
	case "dns":
		if c.Name == "" {
			b.fail(path+".name", "missing: the name to ask for")
		}
		return &check.DNS{Port: c.Port, Name: c.Name, Type: c.RecordType, ExpectRcode: c.Rcode, Contains: c.Expect, Matches: b.regexp(path+".expect_matches", c.ExpectMatches)}
	case "icmp":
		return &check.ICMP{Count: c.Count, MaxLost: c.MaxLost}
	case "exec":
		if c.Command == "" {
			b.fail(path+".command", "missing: the command to run")
		}
		return &check.Exec{Command: c.Command, Args: c.Args, WarningFails: c.WarningFails}
	case "grpc":
		g := &grpccheck.Check{Port: c.Port, Service: c.Service, Host: c.Host, Watching: c.Watching}
		if c.TLS {
			o := b.tlsOptions(path, c)
			g.TLS = &tls.Config{RootCAs: o.RootCAs, InsecureSkipVerify: o.InsecureSkipVerify}
		}
		if c.Port == 0 {
			b.fail(path+".port", "missing: the gRPC server's port")
		}
		return g
	case "all", "any", "at_least":
		var checks []failover.Checker
		for i, sub := range c.Checks {
			checks = append(checks, b.check(fmt.Sprintf("%s.checks[%d]", path, i), sub))
		}
		if len(checks) == 0 {
			b.fail(path+".checks", "missing: the checks to combine")
		}
		switch c.Type {
		case "all":
			return failover.All(checks...)
		case "any":
			return failover.Any(checks...)
		}
		if c.Need < 1 || c.Need > len(checks) {
			b.fail(path+".need", "%d: want 1 to %d, the number of checks", c.Need, len(checks))
		}
		return failover.AtLeast(c.Need, checks...)
	case "":
		b.fail(path+".type", "missing: %s", checkTypes)
	default:
		b.fail(path+".type", "%q is not %s", c.Type, checkTypes)
	}
	return nil
}

const checkTypes = "http, https, tcp, tls, dns, icmp, exec, grpc, all, any or at_least"

func (b *builder) policy(path string, p policyConfig) failover.Policy {
	out := failover.Policy{
		Interval: time.Duration(p.Interval), Timeout: time.Duration(p.Timeout), Jitter: time.Duration(p.Jitter),
		FailAfter: p.FailAfter, RecoverAfter: p.RecoverAfter, FastInterval: time.Duration(p.FastInterval),
		ConfirmInterval: time.Duration(p.ConfirmInterval), FailbackDelay: time.Duration(p.FailbackDelay),
		ManualFailback: p.ManualFailback, MinHealthy: p.MinHealthy, MaxAnswers: p.MaxAnswers, Fallback: p.Fallback,
		TTL: time.Duration(p.TTL), FailoverTTL: time.Duration(p.FailoverTTL), StableAfter: time.Duration(p.StableAfter),
		LowerTTLOnFailing: p.LowerTTLOnFailing,
	}
	if p.AllDown != "" {
		if err := out.AllDown.UnmarshalText([]byte(p.AllDown)); err != nil {
			b.fail(path+".all_down", "%q is not keep, all, fallback or nothing", p.AllDown)
		}
	}
	return out
}

// validate runs the library's own validation and places its problems in
// the file.
func validate(file string, fc *fileConfig, pos positions, cfg failover.Config) error {
	_, err := failover.New(cfg)
	if err == nil {
		return nil
	}
	var out []error
	for _, e := range unjoin(err) {
		var ce *failover.ConfigError
		if !errors.As(e, &ce) {
			out = append(out, fmt.Errorf("%s: %w", file, e))
			continue
		}
		out = append(out, pos.at(file, configPath(fc, ce), ce.Msg))
	}
	return errors.Join(out...)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// configPath finds where in the file a library ConfigError points: its zone
// and record by name, then its field.
func configPath(fc *fileConfig, ce *failover.ConfigError) string {
	field := yamlPath(ce.Field)
	zi := -1
	for i, z := range fc.Zones {
		if z.Name == ce.Zone {
			zi = i
		}
	}
	if zi < 0 {
		return field
	}
	path := fmt.Sprintf("zones[%d]", zi)
	if ce.Record == "" {
		return path + "." + strings.TrimPrefix(field, "zones["+fmt.Sprint(zi)+"].")
	}
	for ri, r := range fc.Zones[zi].Records {
		if strings.TrimSpace(r.Name+" "+r.Type) == ce.Record {
			if strings.HasPrefix(field, "records[") {
				return path + "." + field
			}
			return fmt.Sprintf("%s.records[%d].%s", path, ri, field)
		}
	}
	return path + "." + field
}
