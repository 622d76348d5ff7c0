package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/check"
	"github.com/dnsfailover/failover/check/grpccheck"
	"github.com/dnsfailover/failover/cluster/etcd"
	"github.com/dnsfailover/failover/httpapi"
	"github.com/dnsfailover/failover/notify"
	"github.com/dnsfailover/failover/provider/cloudflare"
	"github.com/dnsfailover/failover/provider/powerdns"
	"github.com/dnsfailover/failover/provider/rfc2136"
	"github.com/dnsfailover/failover/provider/route53"
	"go.yaml.in/yaml/v3"
)

// configTypes are the library's configuration types the file exposes, and
// the daemon's own; each must be settable field by field.
var configTypes = []reflect.Type{
	reflect.TypeFor[fileConfig](), reflect.TypeFor[failover.Config](), reflect.TypeFor[failover.Zone](),
	reflect.TypeFor[failover.Record](), reflect.TypeFor[failover.Endpoint](), reflect.TypeFor[failover.Policy](),
	reflect.TypeFor[check.HTTP](), reflect.TypeFor[check.TCP](), reflect.TypeFor[check.TLS](),
	reflect.TypeFor[check.DNS](), reflect.TypeFor[check.ICMP](), reflect.TypeFor[check.Exec](),
	reflect.TypeFor[check.TLSOptions](), reflect.TypeFor[grpccheck.Check](),
	reflect.TypeFor[notify.Webhook](), reflect.TypeFor[httpapi.Options](), reflect.TypeFor[status](),
	reflect.TypeFor[cloudflare.Options](), reflect.TypeFor[route53.Options](),
	reflect.TypeFor[rfc2136.Provider](), reflect.TypeFor[powerdnsConfig](), reflect.TypeFor[powerdns.Options](),
	reflect.TypeFor[cloudflareConfig](), reflect.TypeFor[route53Config](),
	reflect.TypeFor[rfc2136Config](), reflect.TypeFor[powerdnsConfig](),
	reflect.TypeFor[clusterConfig](), reflect.TypeFor[etcd.Options](), reflect.TypeFor[failover.Quorum](),
}

// A field added to any configuration type of the library is a field of
// the file, or this test fails: it is either in the file's schema, with a
// type the decoder can write, or denied in fieldRules with a reason.
func TestEveryFieldIsSettable(t *testing.T) {
	for _, typ := range configTypes {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() || fieldRules[typ][f.Name].deny {
				continue
			}
			if _, _, inline := strings.Cut(f.Tag.Get("yaml"), ",inline"); inline {
				continue // its fields are checked as a type of their own
			}
			key := ""
			for k, sf := range schema(typ) {
				if len(sf.index) == 1 && sf.index[0] == i {
					key = k
				}
			}
			if key == "" {
				t.Errorf("%v.%s: no YAML key; want one, or a deny rule saying why it is not configuration", typ, f.Name)
				continue
			}
			if why := undecodable(f.Type, map[reflect.Type]bool{}); why != "" && fieldRules[typ][f.Name].decode == nil {
				t.Errorf("%v.%s (%s): the file cannot set it: %s", typ, f.Name, key, why)
			}
		}
	}
}

// undecodable says why decode cannot write a value of type t, or "".
func undecodable(t reflect.Type, seen map[reflect.Type]bool) string {
	if typeHooks[t] != nil || reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) || seen[t] {
		return ""
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return ""
	case reflect.Pointer, reflect.Slice:
		return undecodable(t.Elem(), seen)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return fmt.Sprintf("map key %v", t.Key())
		}
		return undecodable(t.Elem(), seen)
	case reflect.Struct:
		if len(schema(t)) == 0 {
			return fmt.Sprintf("%v has no exported field", t)
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if f.IsExported() && !fieldRules[t][f.Name].deny {
				if why := undecodable(f.Type, seen); why != "" && fieldRules[t][f.Name].decode == nil {
					return f.Name + ": " + why
				}
			}
		}
		return ""
	default:
		return fmt.Sprintf("%v (%v) has no hook", t, t.Kind())
	}
}

// Every field of every check, of TLSOptions, Policy, Endpoint and of each
// provider's settings is written in YAML and arrives, non-zero, in the
// library's value: the whole way from the file, for every field.
func TestEveryFieldArrives(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir, time.Now().Add(time.Hour))
	t.Setenv("FAILOVERD_SAMPLE_SECRET", "s3cret")
	samples := map[reflect.Type]string{
		reflect.TypeFor[time.Duration]():             "1500ms",
		reflect.TypeFor[check.StatusCodes]():         `"200-299,304"`,
		reflect.TypeFor[*regexp.Regexp]():            "ok.*",
		reflect.TypeFor[failover.AllDown]():          "fallback",
		reflect.TypeFor[failover.EventKind]():        "all-down",
		reflect.TypeFor[notify.Format]():             "slack",
		reflect.TypeFor[*x509.CertPool]():            certFile,
		reflect.TypeFor[[]tls.Certificate]():         fmt.Sprintf("[{cert_file: %s, key_file: %s}]", certFile, keyFile),
		reflect.TypeFor[http.Header]():               "{X-Probe: [a, b]}",
		reflect.TypeFor[*tls.Config]():               "{min_version: \"1.3\", expiry_window: 1h, insecure_skip_verify: true}",
		reflect.TypeFor[failover.Checker]():          "{type: tcp, port: 1}",
		reflect.TypeFor[map[string]*regexp.Regexp](): "{Server: x}",
		reflect.TypeFor[netip.Addr]():                "127.0.0.9",
	}
	for _, typ := range []reflect.Type{
		reflect.TypeFor[check.HTTP](), reflect.TypeFor[check.TCP](), reflect.TypeFor[check.TLS](),
		reflect.TypeFor[check.DNS](), reflect.TypeFor[check.ICMP](), reflect.TypeFor[check.Exec](),
		reflect.TypeFor[grpccheck.Check](), reflect.TypeFor[check.TLSOptions](), reflect.TypeFor[failover.Policy](),
		reflect.TypeFor[failover.Endpoint](), reflect.TypeFor[notify.Webhook](), reflect.TypeFor[status](),
		reflect.TypeFor[cloudflareConfig](), reflect.TypeFor[route53Config](), reflect.TypeFor[rfc2136Config](),
		reflect.TypeFor[powerdnsConfig](), reflect.TypeFor[clusterConfig](),
	} {
		t.Run(typ.Name(), func(t *testing.T) {
			text, ok := sample(typ, samples)
			if !ok {
				t.Fatalf("no sample YAML for a field of %v; add one", typ)
			}
			fields := schema(typ)
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(text), &n); err != nil {
				t.Fatalf("%s: %v", text, err)
			}
			d := &decoder{strict: true, at: map[string]position{}, named: map[string]namedCheck{}, ctx: context.Background()}
			v := reflect.New(typ).Elem()
			d.decode(n.Content[0], v, loc{})
			if len(d.problems) > 0 {
				t.Fatalf("decoding %s: %+v", text, d.problems)
			}
			for key, f := range fields {
				if fv := v.FieldByIndex(f.index); fv.IsZero() {
					t.Errorf("%s (%v.%s): zero after decoding %s", key, typ, typ.FieldByIndex(f.index).Name, text)
				}
			}
		})
	}
}

// sample returns YAML for a non-zero value of type t.
func sample(t reflect.Type, samples map[reflect.Type]string) (string, bool) {
	if s, ok := samples[t]; ok {
		return s, true
	}
	switch t.Kind() {
	case reflect.String:
		return "x", true
	case reflect.Bool:
		return "true", true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "1", true
	case reflect.Float32, reflect.Float64:
		return "0.5", true
	case reflect.Pointer:
		return sample(t.Elem(), samples)
	case reflect.Slice:
		s, ok := sample(t.Elem(), samples)
		return "[" + s + "]", ok
	case reflect.Map:
		s, ok := sample(t.Elem(), samples)
		return "{k: " + s + "}", ok
	case reflect.Struct:
		var parts []string
		fields := schema(t)
		for _, key := range keys(fields) {
			f := fields[key]
			switch {
			case f.rule.secret && !strings.HasSuffix(key, "_env"): // one source: KEY_env
			case f.rule.secret:
				parts = append(parts, key+": FAILOVERD_SAMPLE_SECRET")
			case f.rule.decode != nil: // TLSOptions.MinVersion
				parts = append(parts, key+`: "1.3"`)
			default:
				s, ok := sample(t.FieldByIndex(f.index).Type, samples)
				if !ok {
					return "", false
				}
				parts = append(parts, key+": "+s)
			}
		}
		return "{" + strings.Join(parts, ", ") + "}", true
	}
	return "", false
}

// writeCert writes a self-signed certificate valid until notAfter and
// its key, returning their files.
func writeCert(t *testing.T, dir string, notAfter time.Time) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, IsCA: true,
		BasicConstraintsValid: true, DNSNames: []string{"localhost"}, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{
		"FailoverTTL": "failover_ttl", "LowerTTLOnFailing": "lower_ttl_on_failing", "HostedZoneIDs": "hosted_zone_ids",
		"APIToken": "api_token", "AccessKeyID": "access_key_id", "ExpectRcode": "expect_rcode", "Port": "port",
		"InsecureSkipVerify": "insecure_skip_verify", "MaxReplyBytes": "max_reply_bytes", "RootCAs": "root_cas",
	} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConfigPathsNames(t *testing.T) {
	got := slices.Sorted(func(yield func(string) bool) {
		for k := range schema(reflect.TypeFor[check.DNS]()) {
			if !yield(k) {
				return
			}
		}
	})
	want := []string{"contains", "expect_rcode", "matches", "name", "port", "record_type", "recursion_desired"}
	if !slices.Equal(got, want) {
		t.Errorf("dns check keys: got %v, want %v", got, want)
	}
}
