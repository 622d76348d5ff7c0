package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/dnsfailover/failover"
)

func TestHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, p := start(t, wwwRecord(&switchboard{}))
		srv := New(m, Options{Token: "s3cret"})
		do := func(method, path, token, body string) (int, string) {
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			b, _ := io.ReadAll(rec.Body)
			return rec.Code, string(b)
		}

		code, body := do("GET", "/status", "", "")
		var st failover.Status
		if err := json.Unmarshal([]byte(body), &st); code != http.StatusOK || err != nil {
			t.Fatalf("GET /status: %d %v\n%s", code, err, body)
		}
		if r := st.Zones[0].Records[0]; r.Name != "www" || !slices.Equal(r.Published, []string{"192.0.2.10", "192.0.2.11"}) || !strings.Contains(body, `"health": "up"`) {
			t.Fatalf("GET /status: got %+v", r)
		}
		code, body = do("GET", "/", "", "")
		for _, want := range []string{"www A", "192.0.2.10", `class="up"`, `http-equiv="refresh"`, "example.test."} {
			if code != http.StatusOK || !strings.Contains(body, want) {
				t.Fatalf("GET /: %d, want the page to show %q:\n%s", code, want, body)
			}
		}

		drain := `{"zone":"example.test.","name":"www","type":"A","value":"192.0.2.10","override":"force-down","for":"10m"}`
		for _, tc := range []struct {
			name, path, token, body string
			code                    int
			errHas                  string
		}{
			{"no token", "/override", "", drain, http.StatusUnauthorized, "bearer token is required"},
			{"wrong token", "/override", "nope", drain, http.StatusForbidden, "wrong token"},
			{"bad JSON", "/override", "s3cret", `{"zone":`, http.StatusBadRequest, "request body"},
			{"unknown field", "/override", "s3cret", `{"zonez":"x"}`, http.StatusBadRequest, "unknown field"},
			{"bad override", "/override", "s3cret", strings.Replace(drain, "force-down", "sideways", 1), http.StatusBadRequest, "sideways"},
			{"bad duration", "/override", "s3cret", strings.Replace(drain, "10m", "soon", 1), http.StatusBadRequest, "soon"},
			{"unknown record", "/override", "s3cret", strings.Replace(drain, `"www"`, `"nope"`, 1), http.StatusNotFound, "unknown record"},
			{"unknown endpoint", "/override", "s3cret", strings.Replace(drain, "192.0.2.10", "192.0.2.99", 1), http.StatusNotFound, "no endpoint"},
			{"trailing data", "/override", "s3cret", drain + `{"zone":"x"}`, http.StatusBadRequest, "after the JSON object"},
			{"zero duration", "/override", "s3cret", strings.Replace(drain, "10m", "0", 1), http.StatusBadRequest, "positive duration"},
			{"negative duration", "/override", "s3cret", strings.Replace(drain, "10m", "-5m", 1), http.StatusBadRequest, "positive duration"},
			{"drain", "/override", "s3cret", drain, http.StatusNoContent, ""},
			{"failback", "/failback", "s3cret", `{"zone":"example.test.","name":"www","type":"A"}`, http.StatusNoContent, ""},
		} {
			if code, body := do("POST", tc.path, tc.token, tc.body); code != tc.code || !strings.Contains(body, tc.errHas) {
				t.Errorf("%s: got %d %s, want %d with %q", tc.name, code, body, tc.code, tc.errHas)
			}
		}
		synctest.Wait()
		e := m.Status().Zones[0].Records[0].Endpoints[0]
		if e.Override != failover.ForceDown || e.OverrideUntil.IsZero() {
			t.Fatalf("after the drain: got %+v, want forced down for 10m", e)
		}
		waitFor(t, "the drained endpoint removed", func() bool { return slices.Equal(held(p), []string{"192.0.2.11"}) })

		if code, body := do("POST", "/override", "", drain); code != http.StatusUnauthorized {
			t.Fatalf("got %d %s", code, body)
		}
		closed := New(m, Options{})
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/failback", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer ")
		closed.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Fatalf("without a configured token: got %d, want 403", rec.Code)
		}
	})
}
