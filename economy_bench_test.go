package failover_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/cloudflarefake"
	"github.com/dnsfailover/failover/provider/cloudflare"
	"github.com/dnsfailover/failover/provider/memory"
)

// BenchmarkWriteEconomy fails over 500 records of one zone at once (their
// shared primary dies) and counts the writes: SetRecords calls on the
// memory provider, HTTP requests on the Cloudflare fake. Then it counts
// what three reconcile intervals of steady state cost. Run with
// -benchtime=1x.
func BenchmarkWriteEconomy(b *testing.B) {
	const records = 500
	for b.Loop() {
		for _, name := range []string{"memory", "cloudflare", "cloudflare-batch"} {
			b.Run(name, func(b *testing.B) {
				var p failover.Provider
				var writes, reads func() int
				var reset func()
				switch name {
				case "memory":
					mp := &memory.Provider{}
					mp.AddZone("example.com.")
					p = mp
					writes = func() int { return mp.Calls(memory.MethodSetRecords) }
					reads = func() int { return mp.Calls(memory.MethodGetRecords) }
					reset = mp.ResetCalls
				case "cloudflare", "cloudflare-batch":
					fake := cloudflarefake.Start("token", "example.com.")
					defer fake.Close()
					opts := cloudflare.Options{Endpoint: fake.URL, RateLimit: -1} // counted, not paced
					if name == "cloudflare-batch" {
						opts.BatchSize = 200
					}
					cp, err := cloudflare.New("token", opts)
					if err != nil {
						b.Fatal(err)
					}
					p = cp
					writes = func() int { return fake.Requests("") - fake.Requests("GET dns_records") - fake.Requests("GET zones") }
					reads = func() int { return fake.Requests("GET dns_records") }
					reset = fake.ResetRequests
				}
				check := &primaryDies{} // one checker value for every record, as one *HTTPCheck would be
				var recs []failover.Record
				for i := range records {
					recs = append(recs, failover.Record{
						Name: fmt.Sprintf("r%d", i), Type: "A",
						Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.20", Priority: 1}},
						Check:     check,
						Policy:    failover.Policy{Interval: time.Second, FailAfter: 2},
					})
				}
				var onBackup atomic.Int32
				m, err := failover.New(failover.Config{
					Zones:             []failover.Zone{{Name: "example.com.", Providers: []failover.Provider{p}, Records: recs}},
					ReconcileInterval: 2 * time.Second,
					OnEvent: func(e failover.Event) {
						if e.Kind == failover.EventRecordWritten && len(e.Values) == 1 && e.Values[0] == "192.0.2.20" {
							onBackup.Add(1)
						}
					},
				})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error)
				go func() { done <- m.Run(ctx) }()
				defer func() { cancel(); <-done }()
				for m.Status().Zones[0].Providers[0].LastWrite.IsZero() || !m.Status().Zones[0].Providers[0].InSync {
					time.Sleep(10 * time.Millisecond)
				}
				time.Sleep(time.Second)
				reset()
				check.down.Store(true)
				for onBackup.Load() < records {
					time.Sleep(10 * time.Millisecond)
				}
				b.ReportMetric(float64(writes()), "writes/failover")
				b.ReportMetric(float64(reads()), "reads/failover")
				reset()
				time.Sleep(6 * time.Second) // three reconcile intervals, nothing changes
				b.ReportMetric(float64(writes()), "writes/steady-6s")
				b.ReportMetric(float64(reads()), "reads/steady-6s")
			})
		}
	}
}

// primaryDies fails 192.0.2.10 once down is set.
type primaryDies struct{ down atomic.Bool }

func (c *primaryDies) Check(_ context.Context, target string) error {
	if c.down.Load() && target == "192.0.2.10" {
		return errors.New("refused")
	}
	return nil
}
