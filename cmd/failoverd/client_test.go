package main

import (
	"context"
	"net/http"
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
