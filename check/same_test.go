package check

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
)

// Checks written apart with the same settings are the same check, also
// after one has been used (its client built); any setting that differs
// makes them different (issue 13).
func TestSameCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	used := &HTTP{Path: "/healthz", Header: http.Header{"X-A": {"1"}}, BodyMatches: regexp.MustCompile("ok|fine")}
	host, port := hostPort(t, srv.Listener.Addr().String())
	used.Port = port
	used.Check(context.Background(), host) // builds its client
	for _, tc := range []struct {
		name string
		a, b interface{ SameCheck(any) bool }
		want bool
	}{
		{"HTTP used and new", used, &HTTP{Port: port, Path: "/healthz", Header: http.Header{"X-A": {"1"}}, BodyMatches: regexp.MustCompile("ok|fine")}, true},
		{"HTTP other path", &HTTP{Port: 80, Path: "/a"}, &HTTP{Port: 80, Path: "/b"}, false},
		{"HTTP other header", &HTTP{Header: http.Header{"X-A": {"1"}}}, &HTTP{Header: http.Header{"X-A": {"2"}}}, false},
		{"HTTP other regexp", &HTTP{BodyMatches: regexp.MustCompile("a")}, &HTTP{BodyMatches: regexp.MustCompile("b")}, false},
		{"HTTP and TCP", &HTTP{Port: 80}, &TCP{Port: 80}, false},
		{"TCP", &TCP{Port: 25, Expect: "220"}, &TCP{Port: 25, Expect: "220"}, true},
		{"TCP other port", &TCP{Port: 25}, &TCP{Port: 26}, false},
		{"TCP with TLS options", &TCP{Port: 443, TLS: &TLSOptions{MinVersion: 0x0304}}, &TCP{Port: 443, TLS: &TLSOptions{MinVersion: 0x0304}}, true},
		{"TLS", &TLS{Port: 443, Host: "a.example"}, &TLS{Port: 443, Host: "a.example"}, true},
		{"DNS other name", &DNS{Name: "a.example."}, &DNS{Name: "b.example."}, false},
		{"ICMP", &ICMP{Count: 3}, &ICMP{Count: 3}, true},
		{"Exec other args", &Exec{Command: "/bin/check", Args: []string{"a"}}, &Exec{Command: "/bin/check", Args: []string{"b"}}, false},
		{"Exec", &Exec{Command: "/bin/check", Args: []string{"a"}}, &Exec{Command: "/bin/check", Args: []string{"a"}}, true},
	} {
		if got := tc.a.SameCheck(tc.b); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
