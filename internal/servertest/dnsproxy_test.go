package servertest

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

// The proxy forwards signed updates, zone transfers and queries to BIND
// unchanged, and counts each client's UPDATE messages, and only those.
func TestDNSProxyCountsUpdatesPerClient(t *testing.T) {
	b := StartBIND(t, "example.test.", "www 300 IN A 192.0.2.10")
	proxy := StartDNSProxy(t, b.Addr)
	addrs := map[string]string{"a": proxy.Listen("a"), "b": proxy.Listen("b")}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	set := func(client, ip string) {
		t.Helper()
		p := b.Provider()
		p.Server = addrs[client]
		rec := libdns.Address{Name: "www", TTL: 300 * time.Second, IP: netip.MustParseAddr(ip)}
		if _, err := p.SetRecords(ctx, "example.test.", []libdns.Record{rec}); err != nil {
			t.Fatalf("update through %s: %v", client, err)
		}
	}
	start := time.Now()
	set("a", "192.0.2.11")
	set("a", "192.0.2.12")
	set("b", "192.0.2.13")
	p := b.Provider()
	p.Server = addrs["b"]
	recs, err := p.GetRecords(ctx, "example.test.") // a zone transfer: not counted
	if err != nil || len(recs) == 0 {
		t.Fatalf("zone transfer through the proxy: got %d records, %v", len(recs), err)
	}
	if got := query(t, addrs["a"], "www.example.test."); len(got) != 1 || got[0] != "192.0.2.13" {
		t.Errorf("query through the proxy: got %v, want [192.0.2.13]", got)
	}
	for _, tc := range []struct {
		client string
		want   int
	}{{"a", 2}, {"b", 1}, {"c", 0}} {
		if got := proxy.Updates(tc.client); got != tc.want {
			t.Errorf("updates from %s: got %d, want %d", tc.client, got, tc.want)
		}
		if got := proxy.UpdatesSince(tc.client, start); got != tc.want {
			t.Errorf("updates from %s since the start: got %d, want %d", tc.client, got, tc.want)
		}
	}
	if got := proxy.UpdatesSince("a", time.Now()); got != 0 {
		t.Errorf("updates from a since now: got %d, want 0", got)
	}
	if got := proxy.TotalUpdates(); got != 3 {
		t.Errorf("total updates: got %d, want 3", got)
	}
}
