package failover

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// Status reports, for each endpoint, the certificate expiry its record's
// Checker saw for that endpoint, composites included, and nothing for a
// Checker or an endpoint without one.
func TestStatusCertificateExpiry(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	seen := certs{"192.0.2.10": at, "192.0.2.20": at.AddDate(0, 1, 0)}
	other := certs{"192.0.2.10": at.AddDate(0, 0, -1)}
	m, err := New(oneZone(memZone(t),
		wwwRecord(seen, Policy{}),
		Record{Name: "api", Type: "A", Endpoints: []Endpoint{{Value: "192.0.2.10"}}, Check: All(seen, other)},
		Record{Name: "plain", Type: "A", Endpoints: []Endpoint{{Value: "192.0.2.10"}}, Check: fixed(nil)},
	))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{
		"www 192.0.2.10":   at,
		"www 192.0.2.11":   {},
		"www 192.0.2.20":   at.AddDate(0, 1, 0),
		"api 192.0.2.10":   at.AddDate(0, 0, -1),
		"plain 192.0.2.10": {},
	}
	got := map[string]time.Time{}
	for _, r := range m.Status().Zones[0].Records {
		for _, ep := range r.Endpoints {
			got[r.Name+" "+ep.Value] = ep.CertificateExpiry
		}
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || !g.Equal(w) {
			t.Errorf("%s: got %v, want %v", k, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d endpoints, want %d", len(got), len(want))
	}
}

// callsBack is a Checker whose CertificateExpiry calls Status once, as a
// Checker that reads the Manager may.
type callsBack struct {
	m    atomic.Pointer[Manager]
	once atomic.Bool
}

func (*callsBack) Check(context.Context, string) error { return nil }

func (c *callsBack) CertificateExpiry(string) (time.Time, bool) {
	if c.once.CompareAndSwap(false, true) {
		c.m.Load().Status()
	}
	return time.Time{}, false
}

// Status asks the Checkers for certificate expiries without holding the
// Manager's lock: a Checker that calls the Manager does not deadlock.
func TestStatusAsksCheckersUnlocked(t *testing.T) {
	c := &callsBack{}
	m, err := New(oneZone(memZone(t), wwwRecord(c, Policy{})))
	if err != nil {
		t.Fatal(err)
	}
	c.m.Store(m)
	done := make(chan struct{})
	go func() {
		m.Status()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Status did not return within 10 s: CertificateExpiry was called under the Manager's lock")
	}
	if !c.once.Load() {
		t.Fatal("got no call of CertificateExpiry, want one per endpoint")
	}
}
