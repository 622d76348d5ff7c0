// Package metrics exports a failover Manager's state and events as
// Prometheus metrics. It is a package of its own so that importing the
// failover package does not compile the Prometheus client.
//
//	c := metrics.New()
//	cfg.OnEvent = c.Observe             // counters and histograms from events
//	m, err := failover.New(cfg)
//	c.SetSource(m.Status)               // gauges read from Status at each scrape
//	registry.MustRegister(c)            // the registry you serve
//
// Every metric, with its labels:
//
//	failover_record_changes_total{zone,record,type}            decisions that changed the values a record publishes
//	failover_record_writes_total{zone,provider}                records written (not in dry run)
//	failover_provider_failures_total{zone,provider,op}         failed provider calls: get, set or delete
//	failover_drift_repaired_total{zone,record,type,provider}   records found changed by hand and written back
//	failover_endpoint_transitions_total{zone,record,type,endpoint,to}
//	failover_endpoint_suspicions_total{zone,record,type,endpoint}
//	failover_propagation_seconds{zone,server}                  histogram: decision to authoritative answer
//	failover_checks_total{zone,result}                         checks by result: success or failure
//	failover_notifications_failed_total{webhook,kind}          deliveries failed after every retry
//	failover_notifications_dropped_total{webhook,kind}         notifications dropped on a full queue
//	failover_endpoint_up{zone,record,type,endpoint}            1 up, 0 down, -1 unknown
//	failover_endpoint_check_latency_seconds{…endpoint}         the last check's duration
//	failover_endpoint_consecutive_failures{…endpoint}
//	failover_endpoint_certificate_expiry_timestamp_seconds{…endpoint}  NotAfter of the certificate the TLS check last saw (absent before, or without TLS)
//	failover_overrides_active{zone,override}                   endpoints forced up or down
//	failover_record_published_values{zone,record,type}
//	failover_record_ttl_seconds{zone,record,type}
//	failover_record_all_down{zone,record,type}                 1 while no endpoint is healthy
//	failover_provider_in_sync{zone,provider}
//	failover_provider_last_read_timestamp_seconds{zone,provider}   last successful read (absent before)
//	failover_provider_last_write_timestamp_seconds{zone,provider}  last successful write (absent before)
//
// With a Cluster (absent without one):
//
//	failover_endpoint_cluster_up{zone,record,type,endpoint}    the quorum of the instances' verdicts: 1 up, 0 down, -1 unknown
//	failover_cluster_leading{instance}                         1 while this instance leads (and alone writes)
//	failover_cluster_connected{instance}                       1 while it holds a live lease
//	failover_cluster_instances{instance}                       live instances it sees, itself included
//	failover_cluster_isolated{instance}                        1 while its verdicts are left out of every quorum
//	failover_cluster_isolated_instances{instance}              instances it finds isolated, itself included
//
// A cluster's followers call no provider: the failover_provider_* gauges
// come from the leader alone.
package metrics

import (
	"sync"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector is a prometheus.Collector for one Manager at a time. It is
// safe for concurrent use.
type Collector struct {
	mu     sync.Mutex
	source func() failover.Status
	seen   map[endpointKey]checkCount // guarded by mu: the counts of each endpoint at the last scrape

	changes      *prometheus.CounterVec
	writes       *prometheus.CounterVec
	callFailures *prometheus.CounterVec
	drift        *prometheus.CounterVec
	transitions  *prometheus.CounterVec
	suspicions   *prometheus.CounterVec
	propagation  *prometheus.HistogramVec
	checks       *prometheus.CounterVec
	notifyFailed *prometheus.CounterVec
	notifyDrop   *prometheus.CounterVec

	endpointUp   *prometheus.Desc
	checkLatency *prometheus.Desc
	failures     *prometheus.Desc
	certExpiry   *prometheus.Desc
	overrides    *prometheus.Desc
	published    *prometheus.Desc
	ttl          *prometheus.Desc
	allDown      *prometheus.Desc
	inSync       *prometheus.Desc
	lastRead     *prometheus.Desc
	lastWrite    *prometheus.Desc

	clusterUp        *prometheus.Desc
	leading          *prometheus.Desc
	connected        *prometheus.Desc
	instances        *prometheus.Desc
	isolated         *prometheus.Desc
	isolatedAnywhere *prometheus.Desc
}

var (
	recordLabels   = []string{"zone", "record", "type"}
	endpointLabels = []string{"zone", "record", "type", "endpoint"}
	providerLabels = []string{"zone", "provider"}
	instanceLabels = []string{"instance"}
)

// New returns a Collector with no Status source yet (see SetSource).
func New() *Collector {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	return &Collector{
		seen:         map[endpointKey]checkCount{},
		changes:      counter("failover_record_changes_total", "Decisions that changed the values a record publishes (not a TTL alone, not keeping at start-up what DNS held, not in dry run).", recordLabels...),
		writes:       counter("failover_record_writes_total", "Records written to a provider.", "zone", "provider"),
		callFailures: counter("failover_provider_failures_total", "Failed calls to a provider for a zone, by operation: get, set or delete.", "zone", "provider", "op"),
		drift:        counter("failover_drift_repaired_total", "Records found changed on a provider and written back.", "zone", "record", "type", "provider"),
		transitions:  counter("failover_endpoint_transitions_total", "Endpoints marked up or down.", append(endpointLabels, "to")...),
		suspicions:   counter("failover_endpoint_suspicions_total", "Suspicions raised by watchers.", endpointLabels...),
		propagation: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "failover_propagation_seconds", Help: "Time from a decision until an authoritative server answers it.",
			Buckets: []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60, 300}}, []string{"zone", "server"}),
		checks:       counter("failover_checks_total", "Checks by result (success, failure), counted from each endpoint's consecutive counts at each scrape: a lower bound when an endpoint's result flips more than once between scrapes.", "zone", "result"),
		notifyFailed: counter("failover_notifications_failed_total", "Webhook deliveries that failed after every retry.", "webhook", "kind"),
		notifyDrop:   counter("failover_notifications_dropped_total", "Notifications dropped because a queue was full.", "webhook", "kind"),

		endpointUp:   prometheus.NewDesc("failover_endpoint_up", "1 when the endpoint is up, 0 when down, -1 while unknown (not checked enough yet).", endpointLabels, nil),
		checkLatency: prometheus.NewDesc("failover_endpoint_check_latency_seconds", "Duration of the endpoint's last check.", endpointLabels, nil),
		failures:     prometheus.NewDesc("failover_endpoint_consecutive_failures", "Failed checks in a row.", endpointLabels, nil),
		certExpiry:   prometheus.NewDesc("failover_endpoint_certificate_expiry_timestamp_seconds", "When the leaf certificate the endpoint presented in its check's last completed TLS handshake expires (absent before one, and for checks without TLS).", endpointLabels, nil),
		overrides:    prometheus.NewDesc("failover_overrides_active", "Endpoints of records under an operator override, by override (force-up, force-down).", []string{"zone", "override"}, nil),
		published:    prometheus.NewDesc("failover_record_published_values", "How many values the record publishes.", recordLabels, nil),
		ttl:          prometheus.NewDesc("failover_record_ttl_seconds", "TTL the record is published with.", recordLabels, nil),
		allDown:      prometheus.NewDesc("failover_record_all_down", "1 while no endpoint of the record is healthy.", recordLabels, nil),
		inSync:       prometheus.NewDesc("failover_provider_in_sync", "1 when the provider holds every decided record.", providerLabels, nil),
		lastRead:     prometheus.NewDesc("failover_provider_last_read_timestamp_seconds", "When the zone was last read from the provider successfully.", providerLabels, nil),
		lastWrite:    prometheus.NewDesc("failover_provider_last_write_timestamp_seconds", "When the provider was last written successfully.", providerLabels, nil),

		clusterUp:        prometheus.NewDesc("failover_endpoint_cluster_up", "The quorum of the cluster instances' verdicts, which decisions use: 1 up, 0 down, -1 unknown.", endpointLabels, nil),
		leading:          prometheus.NewDesc("failover_cluster_leading", "1 while this instance leads its cluster, and alone writes.", instanceLabels, nil),
		connected:        prometheus.NewDesc("failover_cluster_connected", "1 while this instance holds a live lease in its cluster's store.", instanceLabels, nil),
		instances:        prometheus.NewDesc("failover_cluster_instances", "Live instances of the cluster this instance sees, itself included.", instanceLabels, nil),
		isolated:         prometheus.NewDesc("failover_cluster_isolated", "1 while this instance's verdicts differ from the cluster's on most endpoints and are left out of every quorum.", instanceLabels, nil),
		isolatedAnywhere: prometheus.NewDesc("failover_cluster_isolated_instances", "Instances this instance finds isolated, itself included.", instanceLabels, nil),
	}
}

// SetSource sets where the gauges are read from, usually Manager.Status.
// When it replaces a source (a new Manager after a reload), the series of
// the zones, providers, records and endpoints that the new source no
// longer has are dropped from the counters.
func (c *Collector) SetSource(status func() failover.Status) {
	c.mu.Lock()
	old := c.source
	c.source = status
	c.mu.Unlock()
	if old != nil {
		c.forget(old(), status())
	}
}

// NotificationFailed counts a notification to webhook (named by scheme and
// host) that failed after every retry.
func (c *Collector) NotificationFailed(webhook, kind string) {
	c.notifyFailed.WithLabelValues(webhook, kind).Inc()
}

// NotificationDropped counts a notification to webhook dropped because a
// queue was full.
func (c *Collector) NotificationDropped(webhook, kind string) {
	c.notifyDrop.WithLabelValues(webhook, kind).Inc()
}

// Observe counts one event; pass it as (or call it from) Config.OnEvent.
func (c *Collector) Observe(e failover.Event) {
	r := e.Record
	switch e.Kind {
	case failover.EventRecordDecided:
		if !e.DryRun && !sameSet(e.Values, e.Previous) {
			c.changes.WithLabelValues(r.Zone, r.Name, r.Type).Inc()
		}
	case failover.EventRecordWritten:
		if !e.DryRun {
			c.writes.WithLabelValues(r.Zone, e.Provider).Inc()
		}
	case failover.EventProviderCallFailed:
		c.callFailures.WithLabelValues(e.Zone, e.Provider, e.Operation.String()).Inc()
	case failover.EventDriftRepaired:
		c.drift.WithLabelValues(r.Zone, r.Name, r.Type, e.Provider).Inc()
	case failover.EventEndpointUp, failover.EventEndpointDown:
		c.transitions.WithLabelValues(r.Zone, r.Name, r.Type, e.Endpoint, e.Health.String()).Inc()
	case failover.EventSuspected:
		c.suspicions.WithLabelValues(r.Zone, r.Name, r.Type, e.Endpoint).Inc()
	case failover.EventPropagated:
		c.propagation.WithLabelValues(r.Zone, e.Nameserver).Observe(e.Elapsed.Seconds())
	}
}

// sameSet reports whether a and b hold the same values, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]int, len(a))
	for _, v := range a {
		seen[v]++
	}
	for _, v := range b {
		if seen[v]--; seen[v] < 0 {
			return false
		}
	}
	return true
}

func (c *Collector) vecs() []prometheus.Collector {
	return []prometheus.Collector{c.changes, c.writes, c.callFailures, c.drift, c.transitions, c.suspicions, c.propagation, c.checks, c.notifyFailed, c.notifyDrop}
}

// Describe sends the descriptions of every metric.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, v := range c.vecs() {
		v.Describe(ch)
	}
	for _, d := range []*prometheus.Desc{c.endpointUp, c.checkLatency, c.failures, c.certExpiry, c.overrides, c.published, c.ttl, c.allDown, c.inSync, c.lastRead, c.lastWrite,
		c.clusterUp, c.leading, c.connected, c.instances, c.isolated, c.isolatedAnywhere} {
		ch <- d
	}
}

// Collect sends the counters and the gauges read from the source.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	source := c.source
	c.mu.Unlock()
	var st failover.Status
	if source != nil {
		st = source()
		c.countChecks(st)
	}
	for _, v := range c.vecs() {
		v.Collect(ch)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	timestamp := func(d *prometheus.Desc, t time.Time, labels ...string) {
		if !t.IsZero() {
			gauge(d, float64(t.UnixNano())/1e9, labels...)
		}
	}
	if cl := st.Cluster; cl != nil {
		gauge(c.leading, boolFloat(cl.Leading), cl.Instance)
		gauge(c.connected, boolFloat(cl.Connected), cl.Instance)
		gauge(c.instances, float64(len(cl.Instances)), cl.Instance)
		gauge(c.isolated, boolFloat(cl.SelfIsolated), cl.Instance)
		gauge(c.isolatedAnywhere, float64(len(cl.Isolated)), cl.Instance)
	}
	following := st.Cluster != nil && !st.Cluster.Leading // the leader alone calls the providers
	for _, z := range st.Zones {
		for _, p := range z.Providers {
			if following {
				break
			}
			gauge(c.inSync, boolFloat(p.InSync), z.Name, p.Name)
			timestamp(c.lastRead, p.LastRead, z.Name, p.Name)
			timestamp(c.lastWrite, p.LastWrite, z.Name, p.Name)
		}
		overrides := map[failover.Override]int{failover.ForceUp: 0, failover.ForceDown: 0}
		for _, r := range z.Records {
			gauge(c.published, float64(len(r.Published)), z.Name, r.Name, r.Type)
			gauge(c.ttl, r.TTL.Seconds(), z.Name, r.Name, r.Type)
			gauge(c.allDown, boolFloat(r.AllDown), z.Name, r.Name, r.Type)
			for _, e := range r.Endpoints {
				labels := []string{z.Name, r.Name, r.Type, e.Value}
				gauge(c.endpointUp, upValue(e.Health), labels...)
				if st.Cluster != nil {
					gauge(c.clusterUp, upValue(e.ClusterHealth), labels...)
				}
				gauge(c.checkLatency, e.LastLatency.Seconds(), labels...)
				gauge(c.failures, float64(e.ConsecutiveFailures), labels...)
				timestamp(c.certExpiry, e.CertificateExpiry, labels...)
				if e.Override != failover.NoOverride {
					overrides[e.Override]++
				}
			}
		}
		for o, n := range overrides {
			gauge(c.overrides, float64(n), z.Name, o.String())
		}
	}
}

// upValue is failover_endpoint_up's value for h.
func upValue(h failover.Health) float64 {
	switch h {
	case failover.HealthUp:
		return 1
	case failover.HealthDown:
		return 0
	default:
		return -1
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
