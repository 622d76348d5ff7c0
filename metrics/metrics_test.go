package metrics_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/metrics"
	"github.com/dnsfailover/failover/provider/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type flaky struct{ down atomic.Bool }

func (f *flaky) Check(_ context.Context, target string) error {
	if f.down.Load() && target == "192.0.2.10" {
		return errors.New("refused")
	}
	return nil
}

func TestCollector(t *testing.T) {
	p := &memory.Provider{}
	p.AddZone("example.com.")
	c := metrics.New()
	check := &flaky{}
	written := make(chan failover.Event, 10)
	m, err := failover.New(failover.Config{
		Zones: []failover.Zone{{Name: "example.com.", Providers: []failover.Provider{p}, Records: []failover.Record{{
			Name: "www", Type: "A",
			Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.20", Priority: 1}},
			Check:     check,
			Policy:    failover.Policy{Interval: 50 * time.Millisecond, FailAfter: 1, RecoverAfter: 1},
		}}}},
		OnEvent: func(e failover.Event) {
			c.Observe(e)
			if e.Kind == failover.EventRecordWritten {
				written <- e
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.SetSource(m.Status)
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-written
	check.down.Store(true)
	<-written

	want := `
# HELP failover_endpoint_up 1 when the endpoint is up, 0 when down (absent while unknown).
# TYPE failover_endpoint_up gauge
failover_endpoint_up{endpoint="192.0.2.10",record="www",type="A",zone="example.com."} 0
failover_endpoint_up{endpoint="192.0.2.20",record="www",type="A",zone="example.com."} 1
# HELP failover_record_changes_total Decisions that changed what a record publishes.
# TYPE failover_record_changes_total counter
failover_record_changes_total{record="www",type="A",zone="example.com."} 2
# HELP failover_record_writes_total Records written to a provider.
# TYPE failover_record_writes_total counter
failover_record_writes_total{provider="memory.Provider",zone="example.com."} 2
# HELP failover_provider_in_sync 1 when the provider holds every decided record.
# TYPE failover_provider_in_sync gauge
failover_provider_in_sync{provider="memory.Provider",zone="example.com."} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "failover_endpoint_up", "failover_record_changes_total", "failover_record_writes_total", "failover_provider_in_sync"); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n < 10 {
		t.Fatalf("gathered %d series (%v), want every metric", n, err)
	}
}
