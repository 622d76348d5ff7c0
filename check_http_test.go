package failover

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// split returns the host and port of a test server.
func split(t *testing.T, srv *httptest.Server) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return host, p
}

func TestHTTPCheck(t *testing.T) {
	var gotHost string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHost = r.Host
		switch r.URL.Path {
		case "/healthz":
		case "/moved":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		default:
			http.Error(w, "no", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	target, port := split(t, srv)

	for _, tc := range []struct {
		name   string
		check  HTTPCheck
		errHas string // empty: healthy
	}{
		{"healthy with Host", HTTPCheck{Port: port, Path: "/healthz", Host: "www.example.test"}, ""},
		{"status 503", HTTPCheck{Port: port, Path: "/down"}, "status 503"},
		{"redirect judged by status", HTTPCheck{Port: port, Path: "/moved"}, ""},
		{"bad scheme", HTTPCheck{Scheme: "ftp"}, "unsupported scheme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check.Check(t.Context(), target)
			if tc.errHas == "" && err != nil || tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)) {
				t.Fatalf("got %v, want error containing %q", err, tc.errHas)
			}
		})
	}
	if err := (&HTTPCheck{Port: port, Path: "/healthz", Host: "www.example.test"}).Check(t.Context(), target); err != nil || gotHost != "www.example.test:"+strconv.Itoa(port) {
		t.Fatalf("got Host %q (err %v), want the configured host", gotHost, err)
	}

	srv.Close()
	if err := (&HTTPCheck{Port: port}).Check(t.Context(), target); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("closed listener: got %v, want connection refused", err)
	}
}

func TestHTTPCheckTLSUsesHostForSNI(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the rejected handshake is expected
	srv.StartTLS()
	defer srv.Close()
	target, port := split(t, srv)
	if err := (&HTTPCheck{Scheme: "https", Port: port, Host: "www.example.test"}).Check(t.Context(), target); err == nil {
		t.Fatal("self-signed certificate: got nil error, want verification to fail")
	}
	if err := (&HTTPCheck{Scheme: "https", Port: port, Host: "example.com", InsecureSkipVerify: true}).Check(t.Context(), target); err != nil {
		t.Fatalf("InsecureSkipVerify: %v", err)
	}
}
