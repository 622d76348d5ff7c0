package rfc2136

import (
	"errors"
	"strings"
	"testing"
)

// Validate finds the mistakes with which every read and write would fail,
// each naming its field, without showing the secret.
func TestValidate(t *testing.T) {
	good := Provider{Server: "192.0.2.53:53", KeyName: "failover", Key: "c2VjcmV0"}
	for _, tc := range []struct {
		name  string
		edit  func(p *Provider)
		field string // empty: valid
		want  string
	}{
		{"valid", func(p *Provider) {}, "", ""},
		{"IPv6 server", func(p *Provider) { p.Server = "[2001:db8::53]:5353" }, "", ""},
		{"host name server", func(p *Provider) { p.Server = "ns1.example.test:53" }, "", ""},
		{"key_alg any case with dot", func(p *Provider) { p.KeyAlg = "HMAC-SHA512." }, "", ""},
		{"key_alg sha1", func(p *Provider) { p.KeyAlg = "hmac-sha1" }, "", ""},
		{"largest message", func(p *Provider) { p.MaxMessageSize = 65535 }, "", ""},
		{"server without port", func(p *Provider) { p.Server = "192.0.2.53" }, "Server", "the port is required"},
		{"server port 0", func(p *Provider) { p.Server = "192.0.2.53:0" }, "Server", `port "0" is not 1-65535`},
		{"server without host", func(p *Provider) { p.Server = ":53" }, "Server", "has no host"},
		{"server bad host", func(p *Provider) { p.Server = "ns 1:53" }, "Server", "not a valid host name"},
		{"server empty", func(p *Provider) { p.Server = "" }, "Server", "empty"},
		{"key name empty", func(p *Provider) { p.KeyName = "" }, "KeyName", "empty"},
		{"key name not a name", func(p *Provider) { p.KeyName = "a..b" }, "KeyName", "not a domain name"},
		{"unknown key_alg", func(p *Provider) { p.KeyAlg = "hmac-sha257" }, "KeyAlg", `"hmac-sha257"`},
		{"md5, which package dns cannot sign with", func(p *Provider) { p.KeyAlg = "hmac-md5" }, "KeyAlg", "unknown TSIG algorithm"},
		{"key empty", func(p *Provider) { p.Key = "" }, "Key", "empty"},
		{"key not base64", func(p *Provider) { p.Key = "hunter2!not-base64" }, "Key", "not base64"},
		{"message size negative", func(p *Provider) { p.MaxMessageSize = -1 }, "MaxMessageSize", "-1"},
		{"message size too small", func(p *Provider) { p.MaxMessageSize = 100 }, "MaxMessageSize", "512 to 65535"},
		{"message size too large", func(p *Provider) { p.MaxMessageSize = 70000 }, "MaxMessageSize", "70000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := good
			tc.edit(&p)
			err := p.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(fe.Msg, tc.want) {
				t.Fatalf("got %v, want a *FieldError for %s containing %q", err, tc.field, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("got %q, want the secret not shown", err)
			}
		})
	}
}
