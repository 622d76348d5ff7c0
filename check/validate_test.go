package check

import (
	"context"
	"crypto/tls"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Every check's Validate accepts what its documentation allows and names
// the field of each setting it does not.
func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check interface{ Validate() error }
		want  []string // every substring must appear; none: valid
	}{
		{"http zero value", &HTTP{}, nil},
		{"http full", &HTTP{Scheme: "https", Port: 8443, Method: "HEAD", Path: "/healthz?full=1", Host: "www.example.com:8443",
			Header: http.Header{"X-Probe": {"1"}}, ExpectStatus: StatusCodes{{200, 299}}, HeaderMatches: map[string]*regexp.Regexp{"Server": regexp.MustCompile("nginx")},
			TLS: TLSOptions{MinVersion: tls.VersionTLS13, ExpiryWindow: time.Hour}}, nil},
		{"http scheme", &HTTP{Scheme: "HTTPS"}, []string{"http check: Scheme:", `"HTTPS"`, "lower case"}},
		{"http port", &HTTP{Port: 70000}, []string{"http check: Port: 70000 is not 1-65535"}},
		{"http negative port", &HTTP{Port: -80}, []string{"Port: -80"}},
		{"http method", &HTTP{Method: "GET /"}, []string{"Method:", "not an HTTP method"}},
		{"http path is a URL", &HTTP{Path: "https://www.example.com/healthz"}, []string{"Path:", "whole URL"}},
		{"http path unparsable", &HTTP{Path: "/%zz"}, []string{"Path:", "invalid URL escape"}},
		{"http host", &HTTP{Host: "www example com"}, []string{"Host:", "not allowed"}},
		{"http IPv6 host without brackets", &HTTP{Host: "2001:db8::1"}, []string{"Host:", "brackets"}},
		{"http header name", &HTTP{Header: http.Header{"X Probe": {"1"}}}, []string{"Header:", "not a header name"}},
		{"http header value", &HTTP{Header: http.Header{"X-Probe": {"a\nb"}}}, []string{"Header:", "not a header value"}},
		{"http Host in Header", &HTTP{Header: http.Header{"Host": {"www.example.com"}}}, []string{"Header:", "set the Host field"}},
		{"http empty status set", &HTTP{ExpectStatus: StatusCodes{}}, []string{"ExpectStatus:", "no status would be healthy"}},
		{"http status range", &HTTP{ExpectStatus: StatusCodes{{200, 299}, {404, 99}}}, []string{"ExpectStatus[1]:", "404-99"}},
		{"http status code", &HTTP{ExpectStatus: StatusCodes{{20, 20}}}, []string{"ExpectStatus[0]:"}},
		{"http nil pattern", &HTTP{HeaderMatches: map[string]*regexp.Regexp{"Server": nil}}, []string{"HeaderMatches:", "Server: nil pattern"}},
		{"http body bytes", &HTTP{MaxBodyBytes: -1}, []string{"MaxBodyBytes:", "negative"}},
		{"http TLS without https", &HTTP{TLS: TLSOptions{ExpiryWindow: time.Hour}}, []string{"TLS:", "Scheme is not https"}},
		{"http TLS version", &HTTP{Scheme: "https", TLS: TLSOptions{MinVersion: 13}}, []string{"TLS.MinVersion:", "unknown TLS version"}},
		{"http TLS window", &HTTP{Scheme: "https", TLS: TLSOptions{ExpiryWindow: -time.Hour}}, []string{"TLS.ExpiryWindow:", "negative"}},
		{"http TLS certificate", &HTTP{Scheme: "https", TLS: TLSOptions{Certificates: []tls.Certificate{{}}}}, []string{"TLS.Certificates[0]:", "private key"}},
		{"http every problem at once", &HTTP{Scheme: "ftp", Port: -1}, []string{"Scheme:", "Port:"}},

		{"tcp", &TCP{Port: 25, Expect: "220"}, nil},
		{"tcp with TLS and Host", &TCP{Port: 465, TLS: &TLSOptions{}, Host: "smtp.example.com"}, nil},
		{"tcp no port", &TCP{}, []string{"tcp check: Port: required"}},
		{"tcp port", &TCP{Port: 65536}, []string{"Port: 65536 is not 1-65535"}},
		{"tcp reply bytes", &TCP{Port: 25, MaxReplyBytes: -1}, []string{"MaxReplyBytes:", "negative"}},
		{"tcp expect beyond the reply read", &TCP{Port: 25, Expect: "220 mail", MaxReplyBytes: 4}, []string{"Expect:", "8 bytes, more than the 4"}},
		{"tcp Host without TLS", &TCP{Port: 25, Host: "smtp.example.com"}, []string{"Host:", "without TLS"}},
		{"tcp bad Host", &TCP{Port: 465, TLS: &TLSOptions{}, Host: "-smtp"}, []string{"Host:", "hyphen"}},
		{"tcp TLS version", &TCP{Port: 465, TLS: &TLSOptions{MinVersion: 1}}, []string{"TLS.MinVersion:"}},

		{"tls zero value", &TLS{}, nil},
		{"tls port", &TLS{Port: -1}, []string{"tls check: Port: -1"}},
		{"tls host", &TLS{Host: "a..b"}, []string{"tls check: Host:", "1 to 63"}},
		{"tls window", &TLS{TLS: TLSOptions{ExpiryWindow: -1}}, []string{"TLS.ExpiryWindow:"}},

		{"dns", &DNS{Name: "www.example.com", Type: "aaaa", ExpectRcode: "nxdomain"}, nil},
		{"dns root", &DNS{Name: ".", Type: "SOA"}, nil},
		{"dns no name", &DNS{}, []string{"dns check: Name: required"}},
		{"dns bad name", &DNS{Name: "a..b"}, []string{"Name:", "not a domain name"}},
		{"dns type", &DNS{Name: "example.com", Type: "BOGUS"}, []string{"Type:", `"BOGUS"`}},
		{"dns rcode", &DNS{Name: "example.com", ExpectRcode: "FINE"}, []string{"ExpectRcode:", `"FINE"`}},
		{"dns port", &DNS{Name: "example.com", Port: 100000}, []string{"Port: 100000"}},

		{"icmp zero value", &ICMP{}, nil},
		{"icmp", &ICMP{Count: 5, MaxLost: 1, Interval: 200 * time.Millisecond}, nil},
		{"icmp count", &ICMP{Count: -1}, []string{"icmp check: Count:", "negative"}},
		{"icmp lost", &ICMP{MaxLost: -1}, []string{"MaxLost:", "negative"}},
		{"icmp lost everything", &ICMP{MaxLost: 3}, []string{"MaxLost:", "3 of 3", "every check would pass"}},
		{"icmp interval in nanoseconds", &ICMP{Interval: 50}, []string{"Interval:", "50ns is below 1ms"}},
		{"icmp negative interval", &ICMP{Interval: -time.Second}, []string{"Interval:", "negative"}},

		{"exec", &Exec{Command: "check_http", Args: []string{"-p", "80"}, Env: []string{"MODE=strict", "EMPTY="}, Passthrough: []string{"HOME"}}, nil},
		{"exec no command", &Exec{}, []string{"exec check: Command: required"}},
		{"exec NUL in command", &Exec{Command: "check\x00"}, []string{"Command:", "NUL"}},
		{"exec NUL in an argument", &Exec{Command: "check", Args: []string{"ok", "a\x00b"}}, []string{"Args[1]:", "NUL"}},
		{"exec env without =", &Exec{Command: "check", Env: []string{"MODE"}}, []string{"Env[0]:", "not KEY=value"}},
		{"exec env without a name", &Exec{Command: "check", Env: []string{"=x"}}, []string{"Env[0]:", "not a variable name"}},
		{"exec env sets the target", &Exec{Command: "check", Env: []string{"FAILOVER_TARGET=x"}}, []string{"Env[0]:", "set by the check"}},
		{"exec passthrough", &Exec{Command: "check", Passthrough: []string{"HOME", "A=B", ""}}, []string{"Passthrough[1]:", "Passthrough[2]:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got nil, want an error mentioning %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

// A check that Validate rejects fails every check with Validate's error,
// without touching the network.
func TestInvalidCheckFails(t *testing.T) {
	for _, c := range []interface {
		Check(context.Context, string) error
	}{&HTTP{Port: -1}, &TCP{}, &TLS{Port: -1}, &DNS{}, &ICMP{Count: -1}, &Exec{}} {
		err := c.Check(t.Context(), "192.0.2.1")
		if err == nil || !strings.Contains(err.Error(), " check: ") {
			t.Errorf("%T: got %v, want its Validate error", c, err)
		}
	}
}
