package metrics_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/check"
	"github.com/dnsfailover/failover/metrics"
	"github.com/dnsfailover/failover/provider/memory"
)

// A TLS check of a real loopback server shows the server's certificate
// expiry in failover_endpoint_certificate_expiry_timestamp_seconds, from
// the check through Manager.Status to the scrape.
func TestCertificateExpiryFromTLSCheck(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	p := &memory.Provider{}
	if err := p.AddZone(zone); err != nil {
		t.Fatal(err)
	}
	written := make(chan struct{}, 10)
	m, err := failover.New(failover.Config{
		Zones: []failover.Zone{{Name: zone, Providers: []failover.Provider{p}, Records: []failover.Record{{
			Name: "www", Type: "A",
			Endpoints: []failover.Endpoint{{Value: "127.0.0.1"}},
			Check:     &check.TLS{Port: port, TLS: check.TLSOptions{RootCAs: pool}},
			Policy:    failover.Policy{Interval: time.Second, RecoverAfter: 1},
		}}}},
		OnEvent: func(e failover.Event) {
			if e.Kind == failover.EventRecordWritten {
				written <- struct{}{}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := metrics.New()
	c.SetSource(m.Status)
	reg := registered(c)
	const name = "failover_endpoint_certificate_expiry_timestamp_seconds"
	if got := value(t, reg, name, nil); got != "absent" {
		t.Fatalf("before any check: got %s, want absent", got)
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-written // the endpoint was checked healthy: its handshake completed

	labels := map[string]string{"zone": zone, "record": "www", "type": "A", "endpoint": "127.0.0.1"}
	if got, want := value(t, reg, name, labels), fmt.Sprint(float64(srv.Certificate().NotAfter.Unix())); got != want {
		t.Errorf("got %s, want %s (the server certificate's NotAfter, %v)", got, want, srv.Certificate().NotAfter)
	}
}
