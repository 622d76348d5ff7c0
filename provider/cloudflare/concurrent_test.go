package cloudflare

import (
	"context"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover/internal/cloudflarefake"
	"github.com/libdns/libdns"
)

// Two calls that read www A and then write it, at once (two Managers, or a
// Manager and a CLI, sharing a provider), must not interleave: both would
// read the RRset as it was and write their change against it, leaving a
// state neither asked for (two SetRecords: both values; a SetRecords that
// changes the record in place and a DeleteRecords of its old value: the
// record deleted by ID after it took the new value). One call waits for
// the other, whichever goes first.
func TestConcurrentWritesOfOneRRsetAreSerialised(t *testing.T) {
	set := func(ip string) func(context.Context, *Provider) error {
		return func(ctx context.Context, p *Provider) error {
			_, err := p.SetRecords(ctx, zone, []libdns.Record{a("www", ip, 5*time.Minute)})
			return err
		}
	}
	del := func(ip string) func(context.Context, *Provider) error {
		return func(ctx context.Context, p *Provider) error {
			_, err := p.DeleteRecords(ctx, zone, []libdns.Record{a("www", ip, 0)})
			return err
		}
	}
	for _, tc := range []struct {
		name  string
		held  string // www A held before, if any
		calls [2]func(context.Context, *Provider) error
		want  [][]string // the outcomes of either order
	}{
		{"two SetRecords", "", [2]func(context.Context, *Provider) error{set("192.0.2.1"), set("192.0.2.2")},
			[][]string{{"www.example.com A 192.0.2.1 300"}, {"www.example.com A 192.0.2.2 300"}}},
		{"SetRecords and DeleteRecords of the old value", "192.0.2.1", [2]func(context.Context, *Provider) error{set("192.0.2.2"), del("192.0.2.1")},
			[][]string{{"www.example.com A 192.0.2.2 300"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fake := cloudflarefake.New(token, zone)
				if tc.held != "" {
					fake.Add(zone, "www", "A", tc.held, 300)
				}
				var listed atomic.Int32
				release := make(chan struct{})
				p := hookedProvider(t, fake, func(r *http.Request) {
					if r.Method == http.MethodGet && r.URL.Query().Get("type") == "A" {
						listed.Add(1)
						<-release // hold the call between its read and its write
					}
				})
				if _, err := p.zoneID(t.Context(), zone); err != nil {
					t.Fatal(err)
				}
				errs := make(chan error, 2)
				for _, call := range tc.calls {
					go func() { errs <- call(t.Context(), p) }()
				}
				synctest.Wait() // both calls blocked: between read and write, or waiting for the zone
				if got := listed.Load(); got != 1 {
					t.Errorf("got %d calls that read www A before either wrote, want 1", got)
				}
				close(release)
				for range 2 {
					if err := <-errs; err != nil {
						t.Fatal(err)
					}
				}
				if got := fake.Records(zone); !slices.ContainsFunc(tc.want, func(w []string) bool { return slices.Equal(got, w) }) {
					t.Fatalf("got %q, want one of %q", got, tc.want)
				}
			})
		})
	}
}
