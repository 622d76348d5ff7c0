package metrics_test

import (
	"context"
	"errors"
	"fmt"
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
# HELP failover_endpoint_up 1 when the endpoint is up, 0 when down, -1 while unknown (not checked enough yet).
# TYPE failover_endpoint_up gauge
failover_endpoint_up{endpoint="192.0.2.10",record="www",type="A",zone="example.com."} 0
failover_endpoint_up{endpoint="192.0.2.20",record="www",type="A",zone="example.com."} 1
# HELP failover_record_changes_total Decisions that changed the values a record publishes (not a TTL alone, not keeping at start-up what DNS held, not in dry run).
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

// Failed provider calls are counted per zone, provider and operation;
// propagation times per zone and nameserver.
func TestCollectorCountsEventsByTheirFields(t *testing.T) {
	c := metrics.New()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	for _, e := range []failover.Event{
		{Kind: failover.EventProviderCallFailed, Zone: "example.com.", Provider: "cloudflare", Operation: failover.OpGet, Failures: 1},
		{Kind: failover.EventProviderCallFailed, Zone: "example.com.", Provider: "cloudflare", Operation: failover.OpGet, Failures: 2},
		{Kind: failover.EventProviderCallFailed, Zone: "example.com.", Provider: "cloudflare", Operation: failover.OpSet, Failures: 1},
		{Kind: failover.EventPropagated, Zone: "example.com.", Record: failover.RecordID{Zone: "example.com.", Name: "www", Type: "A"}, Nameserver: "192.0.2.53:53", Elapsed: 2 * time.Second},
	} {
		c.Observe(e)
	}
	want := `
# HELP failover_provider_failures_total Failed calls to a provider for a zone, by operation: get, set or delete.
# TYPE failover_provider_failures_total counter
failover_provider_failures_total{op="get",provider="cloudflare",zone="example.com."} 2
failover_provider_failures_total{op="set",provider="cloudflare",zone="example.com."} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "failover_provider_failures_total"); err != nil {
		t.Fatal(err)
	}
	var buckets strings.Builder
	for _, le := range []string{"0.01", "0.05", "0.1", "0.5", "1", "5", "10", "30", "60", "300", "+Inf"} {
		n := 1
		if le == "0.01" || le == "0.05" || le == "0.1" || le == "0.5" || le == "1" {
			n = 0
		}
		fmt.Fprintf(&buckets, "failover_propagation_seconds_bucket{server=\"192.0.2.53:53\",zone=\"example.com.\",le=\"%s\"} %d\n", le, n)
	}
	want = `
# HELP failover_propagation_seconds Time from a decision until an authoritative server answers it.
# TYPE failover_propagation_seconds histogram
` + buckets.String() + `failover_propagation_seconds_sum{server="192.0.2.53:53",zone="example.com."} 2
failover_propagation_seconds_count{server="192.0.2.53:53",zone="example.com."} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "failover_propagation_seconds"); err != nil {
		t.Fatal(err)
	}
}
