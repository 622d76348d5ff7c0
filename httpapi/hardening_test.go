package httpapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/dnsfailover/failover"
)

// serve sends one request to h and returns the response.
func serve(h http.Handler, method, path string, header map[string]string, body string) *http.Response {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "192.0.2.99:4711"
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestSecurityHeaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := start(t, wwwRecord(&switchboard{}))
		h := New(m, Options{Token: "s3cret"})
		for _, path := range []string{"/", "/status", "/nope"} {
			resp := serve(h, "GET", path, nil, "")
			for k, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"X-Frame-Options":        "DENY",
			} {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("GET %s: %s is %q, want %q", path, k, got, want)
				}
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("GET %s: Content-Security-Policy is %q, want default-src 'none'", path, csp)
			}
		}
	})
}

func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := start(t, wwwRecord(&switchboard{}))
		h := New(m, Options{Token: "s3cret"})
		body := `{"zone":"example.test.","name":"www","type":"A"}`
		for _, auth := range []string{"Bearer s3cret", "bearer s3cret", "BEARER s3cret"} {
			if resp := serve(h, "POST", "/failback", map[string]string{"Authorization": auth}, body); resp.StatusCode != http.StatusNoContent {
				t.Errorf("Authorization %q: got %d, want 204", auth, resp.StatusCode)
			}
		}
		for _, auth := range []string{"Basic s3cret", "Bearers3cret", "s3cret"} {
			if resp := serve(h, "POST", "/failback", map[string]string{"Authorization": auth}, body); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("Authorization %q: got %d, want 401", auth, resp.StatusCode)
			}
		}
	})
}

func TestAuditLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := start(t, wwwRecord(&switchboard{}))
		var log bytes.Buffer
		h := New(m, Options{Token: "s3cret", Logger: slog.New(slog.NewTextHandler(&log, nil))})
		auth := map[string]string{"Authorization": "Bearer s3cret"}
		serve(h, "POST", "/override", auth, `{"zone":"example.test.","name":"www","type":"A","value":"192.0.2.10","override":"force-down","for":"10m"}`)
		serve(h, "POST", "/failback", auth, `{"zone":"example.test.","name":"www","type":"A"}`)
		serve(h, "POST", "/failback", nil, `{}`)
		serve(h, "POST", "/failback", map[string]string{"Authorization": "Bearer guess"}, `{}`)
		lines := strings.Split(strings.TrimSpace(log.String()), "\n")
		for i, want := range [][]string{
			{"operator action", "action=override", "www.example.test. A", "endpoint=192.0.2.10", "override=force-down", "for=10m0s", "client=192.0.2.99:4711"},
			{"operator action", "action=failback", "www.example.test. A", "client=192.0.2.99:4711"},
			{"refused", "status=401", "client=192.0.2.99:4711"},
			{"refused", "status=403", "wrong token", "client=192.0.2.99:4711"},
		} {
			if i >= len(lines) {
				t.Fatalf("audit log has %d lines, want 4:\n%s", len(lines), log.String())
			}
			for _, w := range want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("audit line %d is %q, want it to contain %q", i+1, lines[i], w)
				}
			}
		}
	})
}

func TestGzip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := start(t, wwwRecord(&switchboard{}))
		h := New(m, Options{Token: "s3cret"})
		for _, path := range []string{"/status", "/"} {
			resp := serve(h, "GET", path, map[string]string{"Accept-Encoding": "br, gzip"}, "")
			if resp.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("GET %s: Content-Encoding %q, want gzip", path, resp.Header.Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			body, err := io.ReadAll(zr)
			if err != nil || !strings.Contains(string(body), "192.0.2.10") {
				t.Fatalf("GET %s: decompressed body %v:\n%s", path, err, body)
			}
			plain := serve(h, "GET", path, nil, "")
			if plain.Header.Get("Content-Encoding") != "" {
				t.Fatalf("GET %s without Accept-Encoding: compressed anyway", path)
			}
		}
		if resp := serve(h, "GET", "/status", map[string]string{"Accept-Encoding": "gzip;q=0"}, ""); resp.Header.Get("Content-Encoding") != "" {
			t.Fatal("gzip;q=0: compressed anyway")
		}
		resp := serve(h, "POST", "/failback", map[string]string{"Accept-Encoding": "gzip", "Authorization": "Bearer s3cret"}, `{"zone":"example.test.","name":"www","type":"A"}`)
		if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusNoContent || len(b) != 0 || resp.Header.Get("Content-Encoding") != "" {
			t.Fatalf("204 with gzip accepted: got %d, %d body bytes, Content-Encoding %q; want an empty uncompressed 204", resp.StatusCode, len(b), resp.Header.Get("Content-Encoding"))
		}
	})
}

func TestFilters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sb := &switchboard{}
		api := wwwRecord(sb)
		api.Name = "api"
		m, _ := start(t, wwwRecord(sb), api)
		h := New(m, Options{})
		status := func(query string) (int, failover.Status) {
			resp := serve(h, "GET", "/status"+query, nil, "")
			var st failover.Status
			json.NewDecoder(resp.Body).Decode(&st)
			return resp.StatusCode, st
		}
		names := func(st failover.Status) (got []string) {
			for _, z := range st.Zones {
				for _, r := range z.Records {
					got = append(got, r.Name)
				}
			}
			return got
		}
		if _, st := status("?unhealthy=1"); len(st.Zones) != 0 {
			t.Fatalf("?unhealthy=1 with everything healthy: got %v, want no zones", names(st))
		}
		sb.set("192.0.2.10", true) // shared by both records: both stay on tier 0 with .11
		waitFor(t, ".10 down", func() bool { return m.Status().Zones[0].Records[0].Endpoints[0].Health == failover.HealthDown })
		if _, st := status("?unhealthy=1"); len(names(st)) != 2 {
			t.Fatalf("?unhealthy=1 with an endpoint down in both: got %v, want both", names(st))
		}
		if err := m.SetOverride(failover.RecordID{Zone: testZone, Name: "api", Type: "A"}, "192.0.2.11", failover.ForceDown, 0); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "api failed over", func() bool { return recordState(m.Status().Zones[0].Records[1]) == stateFailedOver })
		sb.set("192.0.2.10", false)
		waitFor(t, ".10 up", func() bool { return m.Status().Zones[0].Records[0].Endpoints[0].Health == failover.HealthUp })
		if _, st := status("?unhealthy=1"); !slices.Equal(names(st), []string{"api"}) {
			t.Fatalf("?unhealthy=1 with api failed over: got %v, want [api]", names(st))
		}
		if _, st := status("?zone=example.test."); len(names(st)) != 2 {
			t.Fatalf("?zone=example.test.: got %v, want both records", names(st))
		}
		if _, st := status("?zone=other.test."); len(st.Zones) != 0 {
			t.Fatalf("?zone=other.test.: got %v, want nothing", names(st))
		}
		if code, _ := status("?unhealthy=maybe"); code != http.StatusBadRequest {
			t.Fatalf("?unhealthy=maybe: got %d, want 400", code)
		}
		resp := serve(h, "GET", "/", nil, "")
		page, _ := io.ReadAll(resp.Body)
		html := string(page)
		if !strings.Contains(html, `<td class="n" id="overrides">1</td>`) {
			t.Errorf("the page's summary does not count the override:\n%s", html)
		}
		if a, w := strings.Index(html, "<code>api A</code>"), strings.Index(html, "<code>www A</code>"); a < 0 || w < 0 || a > w {
			t.Errorf("the failed-over record api is not listed before www (at %d, %d)", a, w)
		}
	})
}

func TestPprofBehindToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := start(t, wwwRecord(&switchboard{}))
		if resp := serve(New(m, Options{Token: "s3cret"}), "GET", "/debug/pprof/", map[string]string{"Authorization": "Bearer s3cret"}, ""); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("pprof not enabled: got %d, want 404", resp.StatusCode)
		}
		h := New(m, Options{Token: "s3cret", Pprof: true})
		if resp := serve(h, "GET", "/debug/pprof/", nil, ""); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("pprof without a token: got %d, want 401", resp.StatusCode)
		}
		resp := serve(h, "GET", "/debug/pprof/", map[string]string{"Authorization": "Bearer s3cret"}, "")
		if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "goroutine") {
			t.Fatalf("pprof with the token: got %d:\n%s", resp.StatusCode, b)
		}
	})
}
