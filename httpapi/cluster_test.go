package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover"
	clustermem "github.com/dnsfailover/failover/cluster/memory"
	"github.com/dnsfailover/failover/provider/memory"
)

// With a Cluster, the page shows the instance's place in it and each
// endpoint's votes, /status carries the cluster section, and an operator
// action the cluster's store cannot take is answered 503.
func TestClusterOnPageAndStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := clustermem.NewStore(2 * time.Second)
		in := store.Instance("a")
		p := &memory.Provider{}
		if err := p.AddZone(testZone); err != nil {
			t.Fatal(err)
		}
		m, err := failover.New(failover.Config{Cluster: in, ProviderTimeout: time.Second,
			Zones: []failover.Zone{{Name: testZone, Providers: []failover.Provider{p}, Records: []failover.Record{wwwRecord(&switchboard{})}}}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}()
		waitFor(t, "the record decided", func() bool { return m.Status().Zones[0].Records[0].Decided })
		srv := New(m, Options{Token: "s3cret"})
		do := func(method, path, body string) (int, string) {
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer s3cret")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			b, _ := io.ReadAll(rec.Body)
			return rec.Code, string(b)
		}

		code, body := do("GET", "/", "")
		for _, want := range []string{`id="cluster"`, "<code>a</code> (leading: writes)", `<th>votes</th>`, `a <span class="up">up</span>`} {
			if code != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("GET /: %d, want the page to show %q:\n%s", code, want, body)
			}
		}
		code, body = do("GET", "/status", "")
		var st failover.Status
		if err := json.Unmarshal([]byte(body), &st); code != http.StatusOK || err != nil {
			t.Fatalf("GET /status: %d %v\n%s", code, err, body)
		}
		if st.Cluster == nil || st.Cluster.Leader != "a" || !st.Cluster.Leading || len(st.Zones[0].Records[0].Endpoints[0].Votes) != 1 {
			t.Errorf("GET /status: cluster %+v, votes %v, want a leading, with its vote", st.Cluster, st.Zones[0].Records[0].Endpoints[0].Votes)
		}

		in.Cut(true)
		drain := `{"zone":"example.test.","name":"www","type":"A","value":"192.0.2.10","override":"force-down","for":"10m"}`
		if code, body := do("POST", "/override", drain); code != http.StatusServiceUnavailable || !strings.Contains(body, "192.0.2.10") {
			t.Errorf("a drain the store cannot take: got %d %s, want 503 naming the endpoint", code, body)
		}
		if code, body := do("POST", "/failback", `{"zone":"example.test.","name":"www","type":"A"}`); code != http.StatusServiceUnavailable || !strings.Contains(body, "www.example.test. A") {
			t.Errorf("a failback the store cannot take: got %d %s, want 503 naming the record", code, body)
		}
		in.Cut(false)
	})
}
