package route53

import (
	"fmt"
	"testing"
	"time"

	"github.com/dnsfailover/failover/internal/route53fake"
	"github.com/libdns/libdns"
)

// BenchmarkRequestsPerFailover moves n single-value A records of one zone
// from 192.0.2.10 to 192.0.2.20 in one SetRecords call, as the Manager
// does when their shared primary dies, after the Manager's read of the
// zone, and reports the requests the write cost on the fake. Run with
// -benchtime=1x.
func BenchmarkRequestsPerFailover(b *testing.B) {
	for _, n := range []int{1, 500} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			for b.Loop() {
				p, fake := setup(b, Options{})
				var recs []libdns.Record
				for i := range n {
					name := fmt.Sprintf("r%d.%s", i, zone)
					fake.Put(fake.ZoneID(zone), route53fake.RecordSet{Name: name, Type: "A", TTL: 60, Values: []string{"192.0.2.10"}})
					recs = append(recs, a(fmt.Sprintf("r%d", i), "192.0.2.20", time.Minute))
				}
				if _, err := p.GetRecords(b.Context(), zone); err != nil {
					b.Fatal(err)
				}
				fake.ResetRequests()
				if _, err := p.SetRecords(b.Context(), zone, recs); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(fake.Requests("change")), "changes/failover")
				b.ReportMetric(float64(fake.Requests("")-fake.Requests("change")), "other/failover")
			}
		})
	}
}
