package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/httpapi"
	"github.com/dnsfailover/failover/provider/memory"
)

// apiFixture is the status API of a Manager with www.example.test. A
// (192.0.2.10, 192.0.2.20), token t0ken.
func apiFixture(t *testing.T) (*failover.Manager, http.Handler) {
	t.Helper()
	p := &memory.Provider{}
	p.AddZone("example.test.")
	m, err := failover.New(failover.Config{Zones: []failover.Zone{{Name: "example.test.", Providers: []failover.Provider{p}, Records: []failover.Record{{
		Name: "www", Type: "A", Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.20", Priority: 1}},
		Check: failover.CheckerFunc(func(context.Context, string) error { return nil }),
	}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return m, httpapi.New(m, httpapi.Options{Token: "t0ken"})
}

// TestDrainForNotPositiveRefused: `failoverd drain -for -5m` (a typo, or
// a computed duration that went negative) or `-for 0` is refused with
// exit 2 and drains nothing (it drained until undrain).
func TestDrainForNotPositiveRefused(t *testing.T) {
	m, h := apiFixture(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	t.Setenv("FAILOVERD_TOKEN", "t0ken")
	for _, d := range []string{"-5m", "0", "0s"} {
		out, errs, code := runCLI("drain", "-addr="+srv.URL, "-for", d, "www.example.test", "A", "192.0.2.10")
		e := m.Status().Zones[0].Records[0].Endpoints[0]
		if code != 2 || e.Override != failover.NoOverride || !strings.Contains(errs, "positive duration") {
			t.Errorf("drain -for %s: exit %d, %q %q, endpoint %v until %v; want exit 2 refusing the duration, no drain",
				d, code, out, errs, e.Override, e.OverrideUntil)
		}
	}
}

// TestClientRetriesDuringReload: between two Managers (a reload) the API
// answers 503 with Retry-After: 1; a script running `systemctl reload
// failoverd; failoverd drain …` lands in that window, and the client
// retries within its -timeout instead of failing at once.
func TestClientRetriesDuringReload(t *testing.T) {
	m, h := apiFixture(t)
	var reloading atomic.Int32
	reloading.Store(1) // the first request lands in the reload
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reloading.Add(-1) >= 0 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "starting or reloading: try again in a second", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	t.Setenv("FAILOVERD_TOKEN", "t0ken")
	out, errs, code := runCLI("drain", "-addr="+srv.URL, "-timeout", "10s", "www.example.test", "A", "192.0.2.10")
	e := m.Status().Zones[0].Records[0].Endpoints[0]
	if code != 0 || e.Override != failover.ForceDown {
		t.Errorf("drain during a reload (one 503 with Retry-After: 1): exit %d, %q %q, endpoint %v; want the drain taken after the reload",
			code, out, errs, e.Override)
	}
}
