package cloudflare

import (
	"fmt"
	"testing"
	"time"

	"github.com/dnsfailover/failover/internal/cloudflarefake"
	"github.com/libdns/libdns"
)

// BenchmarkRequestsPerFailover moves n single-value A records of one zone
// from 192.0.2.10 to 192.0.2.20 in one SetRecords call, as the Manager
// does when their shared primary dies, and reports the HTTP requests it
// cost on the fake: writes, and list pages. The zone lookup is made before
// the count starts (it happens once per process). Run with -benchtime=1x.
func BenchmarkRequestsPerFailover(b *testing.B) {
	for _, path := range []struct {
		name  string
		batch int
	}{{"default", 0}, {"batch200", 200}} {
		for _, n := range []int{1, 500} {
			b.Run(fmt.Sprintf("%s/records=%d", path.name, n), func(b *testing.B) {
				for b.Loop() {
					fake := cloudflarefake.Start(token, zone)
					p, err := New(token, Options{Endpoint: fake.URL, BatchSize: path.batch, RateLimit: -1})
					if err != nil {
						b.Fatal(err)
					}
					var recs []libdns.Record
					for i := range n {
						name := fmt.Sprintf("r%d", i)
						fake.Add(zone, name, "A", "192.0.2.10", 60)
						recs = append(recs, a(name, "192.0.2.20", time.Minute))
					}
					if _, err := p.zoneID(b.Context(), zone); err != nil {
						b.Fatal(err)
					}
					fake.ResetRequests()
					if _, err := p.SetRecords(b.Context(), zone, recs); err != nil {
						b.Fatal(err)
					}
					lists := fake.Requests("GET dns_records")
					b.ReportMetric(float64(fake.Requests("")-lists), "writes/failover")
					b.ReportMetric(float64(lists), "lists/failover")
					fake.Close()
				}
			})
		}
	}
}
