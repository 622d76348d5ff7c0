// Package metrics exports a failover Manager's state and events as
// Prometheus metrics. It is a package of its own so that importing the
// failover package does not compile the Prometheus client.
//
//	c := metrics.New()
//	cfg.OnEvent = c.Observe             // counters and histograms from events
//	m, err := failover.New(cfg)
//	c.SetSource(m.Status)               // gauges read from Status at each scrape
//	registry.MustRegister(c)            // the registry you serve
package metrics

import (
	"sync"

	"github.com/dnsfailover/failover"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector is a prometheus.Collector for one Manager. It is safe for
// concurrent use.
type Collector struct {
	mu     sync.Mutex
	source func() failover.Status

	changes      *prometheus.CounterVec
	writes       *prometheus.CounterVec
	callFailures *prometheus.CounterVec
	drift        *prometheus.CounterVec
	transitions  *prometheus.CounterVec
	suspicions   *prometheus.CounterVec
	propagation  *prometheus.HistogramVec

	endpointUp   *prometheus.Desc
	checkLatency *prometheus.Desc
	failures     *prometheus.Desc
	published    *prometheus.Desc
	ttl          *prometheus.Desc
	inSync       *prometheus.Desc
}

var (
	recordLabels   = []string{"zone", "record", "type"}
	endpointLabels = []string{"zone", "record", "type", "endpoint"}
	providerLabels = []string{"zone", "provider"}
)

// New returns a Collector with no Status source yet (see SetSource).
func New() *Collector {
	return &Collector{
		changes:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "failover_record_changes_total", Help: "Decisions that changed what a record publishes."}, recordLabels),
		writes:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "failover_record_writes_total", Help: "Records written to a provider."}, []string{"zone", "provider"}),
		callFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "failover_provider_failures_total", Help: "Failed calls to a provider for a zone, by operation: get, set or delete."}, []string{"zone", "provider", "op"}),
		drift:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "failover_drift_repaired_total", Help: "Records found changed on a provider and written back."}, []string{"zone", "record", "type", "provider"}),
		transitions:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "failover_endpoint_transitions_total", Help: "Endpoints marked up or down."}, append(endpointLabels, "to")),
		suspicions:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "failover_endpoint_suspicions_total", Help: "Suspicions raised by watchers."}, endpointLabels),
		propagation: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "failover_propagation_seconds", Help: "Time from a decision until an authoritative server answers it.",
			Buckets: []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60, 300}}, []string{"zone", "server"}),

		endpointUp:   prometheus.NewDesc("failover_endpoint_up", "1 when the endpoint is up, 0 when down (absent while unknown).", endpointLabels, nil),
		checkLatency: prometheus.NewDesc("failover_endpoint_check_latency_seconds", "Duration of the endpoint's last check.", endpointLabels, nil),
		failures:     prometheus.NewDesc("failover_endpoint_consecutive_failures", "Failed checks in a row.", endpointLabels, nil),
		published:    prometheus.NewDesc("failover_record_published_values", "How many values the record publishes.", recordLabels, nil),
		ttl:          prometheus.NewDesc("failover_record_ttl_seconds", "TTL the record is published with.", recordLabels, nil),
		inSync:       prometheus.NewDesc("failover_provider_in_sync", "1 when the provider holds every decided record.", providerLabels, nil),
	}
}

// SetSource sets where the gauges are read from, usually Manager.Status.
func (c *Collector) SetSource(status func() failover.Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.source = status
}

// Observe counts one event; pass it as (or call it from) Config.OnEvent.
func (c *Collector) Observe(e failover.Event) {
	r := e.Record
	switch e.Kind {
	case failover.EventRecordDecided:
		c.changes.WithLabelValues(r.Zone, r.Name, r.Type).Inc()
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

func (c *Collector) vecs() []prometheus.Collector {
	return []prometheus.Collector{c.changes, c.writes, c.callFailures, c.drift, c.transitions, c.suspicions, c.propagation}
}

// Describe sends the descriptions of every metric.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, v := range c.vecs() {
		v.Describe(ch)
	}
	for _, d := range []*prometheus.Desc{c.endpointUp, c.checkLatency, c.failures, c.published, c.ttl, c.inSync} {
		ch <- d
	}
}

// Collect sends the counters and the gauges read from the source.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, v := range c.vecs() {
		v.Collect(ch)
	}
	c.mu.Lock()
	source := c.source
	c.mu.Unlock()
	if source == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, z := range source().Zones {
		for _, p := range z.Providers {
			gauge(c.inSync, boolFloat(p.InSync), z.Name, p.Name)
		}
		for _, r := range z.Records {
			gauge(c.published, float64(len(r.Published)), z.Name, r.Name, r.Type)
			gauge(c.ttl, r.TTL.Seconds(), z.Name, r.Name, r.Type)
			for _, e := range r.Endpoints {
				labels := []string{z.Name, r.Name, r.Type, e.Value}
				if e.Health != failover.HealthUnknown {
					gauge(c.endpointUp, boolFloat(e.Health == failover.HealthUp), labels...)
				}
				gauge(c.checkLatency, e.LastLatency.Seconds(), labels...)
				gauge(c.failures, float64(e.ConsecutiveFailures), labels...)
			}
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
