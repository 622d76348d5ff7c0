package metrics_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var (
	zone = "example.com."
	www  = failover.RecordID{Zone: zone, Name: "www", Type: "A"}
	api  = failover.RecordID{Zone: zone, Name: "api", Type: "A"}
)

// registered returns c in a registry of its own.
func registered(c *metrics.Collector) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	return reg
}

// value returns the value of the series of name with labels, or "absent".
func value(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) string {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			switch {
			case m.Gauge != nil:
				return fmt.Sprint(m.GetGauge().GetValue())
			case m.Counter != nil:
				return fmt.Sprint(m.GetCounter().GetValue())
			}
		}
	}
	return "absent"
}

func TestChangesCountedOnlyWhenValuesChange(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    failover.Event
		want string
	}{
		{"failover", failover.Event{Values: []string{"192.0.2.20"}, Previous: []string{"192.0.2.10"}}, "1"},
		{"first decision of a new record", failover.Event{Values: []string{"192.0.2.10"}}, "1"},
		{"start-up keeping what DNS held", failover.Event{Values: []string{"192.0.2.10", "192.0.2.11"}, Previous: []string{"192.0.2.11", "192.0.2.10"}}, "absent"},
		{"TTL alone", failover.Event{Values: []string{"192.0.2.10"}, Previous: []string{"192.0.2.10"}, TTL: time.Minute}, "absent"},
		{"dry run", failover.Event{Values: []string{"192.0.2.20"}, Previous: []string{"192.0.2.10"}, DryRun: true}, "absent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := metrics.New()
			reg := registered(c)
			tc.e.Kind, tc.e.Zone, tc.e.Record = failover.EventRecordDecided, zone, www
			c.Observe(tc.e)
			if got := value(t, reg, "failover_record_changes_total", nil); got != tc.want {
				t.Errorf("failover_record_changes_total: got %s, want %s", got, tc.want)
			}
		})
	}
}

// status is a Status source that tests change between scrapes.
type status struct {
	mu sync.Mutex
	st failover.Status
}

func (s *status) get() failover.Status { s.mu.Lock(); defer s.mu.Unlock(); return s.st }
func (s *status) set(f func(*failover.Status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.st)
}

func oneRecord(eps ...failover.EndpointStatus) failover.Status {
	return failover.Status{Zones: []failover.ZoneStatus{{Name: zone, Records: []failover.RecordStatus{{Name: "www", Type: "A", Endpoints: eps}}}}}
}

func TestGaugesFromStatus(t *testing.T) {
	read := time.Unix(1_700_000_000, 0)
	st := failover.Status{Zones: []failover.ZoneStatus{{
		Name:      zone,
		Providers: []failover.ProviderStatus{{Name: "rfc2136", LastRead: read}},
		Records: []failover.RecordStatus{{Name: "www", Type: "A", AllDown: true, Endpoints: []failover.EndpointStatus{
			{Value: "192.0.2.10", Health: failover.HealthDown, Override: failover.ForceDown},
			{Value: "192.0.2.11", Health: failover.HealthUnknown},
			{Value: "192.0.2.20", Health: failover.HealthUp, CertificateExpiry: time.Unix(1_800_000_000, 0)},
		}}},
	}}}
	c := metrics.New()
	c.SetSource(func() failover.Status { return st })
	reg := registered(c)
	ep := func(v string) map[string]string { return map[string]string{"endpoint": v} }
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   string
	}{
		{"failover_endpoint_up", ep("192.0.2.10"), "0"},
		{"failover_endpoint_up", ep("192.0.2.11"), "-1"},
		{"failover_endpoint_up", ep("192.0.2.20"), "1"},
		{"failover_overrides_active", map[string]string{"override": "force-down"}, "1"},
		{"failover_overrides_active", map[string]string{"override": "force-up"}, "0"},
		{"failover_record_all_down", nil, "1"},
		{"failover_endpoint_certificate_expiry_timestamp_seconds", ep("192.0.2.20"), "1.8e+09"},
		{"failover_endpoint_certificate_expiry_timestamp_seconds", ep("192.0.2.10"), "absent"},
		{"failover_provider_last_read_timestamp_seconds", nil, "1.7e+09"},
		{"failover_provider_last_write_timestamp_seconds", nil, "absent"},
	} {
		if got := value(t, reg, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v: got %s, want %s", tc.name, tc.labels, got, tc.want)
		}
	}
}

// TestChecksCountedFromStatus: each scrape adds the checks since the last
// one, from the consecutive counts; two records sharing a probe count once.
func TestChecksCountedFromStatus(t *testing.T) {
	src := &status{}
	at := func(s int) time.Time { return time.Unix(int64(s), 0) }
	shared := func(ok, failed, s int) failover.Status {
		e := failover.EndpointStatus{Value: "192.0.2.10", ConsecutiveSuccesses: ok, ConsecutiveFailures: failed, LastCheck: at(s)}
		st := oneRecord(e)
		st.Zones[0].Records = append(st.Zones[0].Records, failover.RecordStatus{Name: "api", Type: "A", Endpoints: []failover.EndpointStatus{e}})
		return st
	}
	c := metrics.New()
	c.SetSource(src.get)
	reg := registered(c)
	for _, step := range []struct {
		st            failover.Status
		success, fail string
	}{
		{oneRecord(failover.EndpointStatus{Value: "192.0.2.10"}), "absent", "absent"}, // not checked yet
		{shared(3, 0, 1), "3", "absent"},
		{shared(5, 0, 2), "5", "absent"},
		{shared(5, 0, 2), "5", "absent"}, // no check since
		{shared(0, 2, 3), "5", "2"},
		{shared(1, 0, 4), "6", "2"},
	} {
		src.set(func(s *failover.Status) { *s = step.st })
		ok := value(t, reg, "failover_checks_total", map[string]string{"result": "success"})
		failed := value(t, reg, "failover_checks_total", map[string]string{"result": "failure"})
		if ok != step.success || failed != step.fail {
			t.Fatalf("after %+v: success %s, failure %s; want %s, %s", step.st.Zones[0].Records[0].Endpoints[0], ok, failed, step.success, step.fail)
		}
	}
}

// TestReloadDropsSeriesOfRemovedRecords: a new source without a record
// (or an endpoint) drops that record's counters; the others stay.
func TestReloadDropsSeriesOfRemovedRecords(t *testing.T) {
	c := metrics.New()
	reg := registered(c)
	before := failover.Status{Zones: []failover.ZoneStatus{{Name: zone, Records: []failover.RecordStatus{
		{Name: "www", Type: "A", Endpoints: []failover.EndpointStatus{{Value: "192.0.2.10"}, {Value: "192.0.2.11"}}},
		{Name: "api", Type: "A", Endpoints: []failover.EndpointStatus{{Value: "192.0.2.30"}}},
	}}}}
	c.SetSource(func() failover.Status { return before })
	for _, e := range []failover.Event{
		{Kind: failover.EventRecordDecided, Record: www, Values: []string{"192.0.2.10"}},
		{Kind: failover.EventRecordDecided, Record: api, Values: []string{"192.0.2.30"}},
		{Kind: failover.EventEndpointDown, Record: www, Endpoint: "192.0.2.10", Health: failover.HealthDown},
		{Kind: failover.EventEndpointDown, Record: www, Endpoint: "192.0.2.11", Health: failover.HealthDown},
		{Kind: failover.EventEndpointDown, Record: api, Endpoint: "192.0.2.30", Health: failover.HealthDown},
	} {
		c.Observe(e)
	}
	after := oneRecord(failover.EndpointStatus{Value: "192.0.2.10"}) // api gone, www's .11 gone
	c.SetSource(func() failover.Status { return after })
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   string
	}{
		{"failover_record_changes_total", map[string]string{"record": "www"}, "1"},
		{"failover_record_changes_total", map[string]string{"record": "api"}, "absent"},
		{"failover_endpoint_transitions_total", map[string]string{"endpoint": "192.0.2.10"}, "1"},
		{"failover_endpoint_transitions_total", map[string]string{"endpoint": "192.0.2.11"}, "absent"},
		{"failover_endpoint_transitions_total", map[string]string{"endpoint": "192.0.2.30"}, "absent"},
		{"failover_endpoint_up", map[string]string{"record": "api"}, "absent"},
	} {
		if got := value(t, reg, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v: got %s, want %s", tc.name, tc.labels, got, tc.want)
		}
	}
}

func TestNotificationCounters(t *testing.T) {
	c := metrics.New()
	reg := registered(c)
	c.NotificationFailed("https://hooks.example/…", "record-decided")
	c.NotificationDropped("https://hooks.example/…", "all-down")
	c.NotificationDropped("https://hooks.example/…", "all-down")
	want := `
# HELP failover_notifications_dropped_total Notifications dropped because a queue was full.
# TYPE failover_notifications_dropped_total counter
failover_notifications_dropped_total{kind="all-down",webhook="https://hooks.example/…"} 2
# HELP failover_notifications_failed_total Webhook deliveries that failed after every retry.
# TYPE failover_notifications_failed_total counter
failover_notifications_failed_total{kind="record-decided",webhook="https://hooks.example/…"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "failover_notifications_failed_total", "failover_notifications_dropped_total"); err != nil {
		t.Fatal(err)
	}
}

// With a Cluster, the instance's place in it and each endpoint's cluster
// health are gauges; without one they are absent.
func TestClusterGauges(t *testing.T) {
	st := failover.Status{
		Cluster: &failover.ClusterView{
			ClusterStatus: failover.ClusterStatus{Instance: "b", Instances: []string{"a", "b", "c"}, Leader: "a", Connected: true},
			Isolated:      []string{"b"}, SelfIsolated: true,
		},
		Zones: []failover.ZoneStatus{{Name: zone, Providers: []failover.ProviderStatus{{Name: "rfc2136"}}, Records: []failover.RecordStatus{{Name: "www", Type: "A", Endpoints: []failover.EndpointStatus{
			{Value: "192.0.2.10", Health: failover.HealthDown, ClusterHealth: failover.HealthUp},
		}}}}},
	}
	c := metrics.New()
	c.SetSource(func() failover.Status { return st })
	reg := registered(c)
	b := map[string]string{"instance": "b"}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   string
	}{
		{"failover_cluster_leading", b, "0"},
		{"failover_cluster_connected", b, "1"},
		{"failover_cluster_instances", b, "3"},
		{"failover_cluster_isolated", b, "1"},
		{"failover_cluster_isolated_instances", b, "1"},
		{"failover_endpoint_up", nil, "0"},
		{"failover_endpoint_cluster_up", nil, "1"},
		{"failover_provider_in_sync", nil, "absent"}, // a follower calls no provider
	} {
		if got := value(t, reg, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v: got %s, want %s", tc.name, tc.labels, got, tc.want)
		}
	}
	st.Cluster = nil
	for _, name := range []string{"failover_cluster_leading", "failover_endpoint_cluster_up"} {
		if got := value(t, reg, name, nil); got != "absent" {
			t.Errorf("without a Cluster, %s: got %s, want absent", name, got)
		}
	}
}
