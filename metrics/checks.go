package metrics

import (
	"time"

	"github.com/dnsfailover/failover"
)

// The engine reports no event per check, so failover_checks_total is
// counted from Status: each endpoint's consecutive successes or failures
// grow by one per check, and restart at one when the result flips. A
// count that flipped more than once between two scrapes has lost the
// checks of the runs in between: the total is a lower bound.

// endpointKey is one endpoint of one record.
type endpointKey struct{ zone, name, typ, value string }

// checkCount is an endpoint's counts as a scrape saw them.
type checkCount struct {
	successes, failures int
	lastCheck           time.Time
}

// countChecks adds the checks run since the last scrape. Endpoints that
// share one probe (the same check of the same value in several records)
// are counted once.
func (c *Collector) countChecks(st failover.Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	type probe struct {
		zone, value string
		lastCheck   time.Time
	}
	counted := map[probe]bool{}
	seen := make(map[endpointKey]checkCount, len(c.seen))
	for _, z := range st.Zones {
		var ok, failed int
		for _, r := range z.Records {
			for _, e := range r.Endpoints {
				k := endpointKey{z.Name, r.Name, r.Type, e.Value}
				now := checkCount{e.ConsecutiveSuccesses, e.ConsecutiveFailures, e.LastCheck}
				seen[k] = now
				p := probe{z.Name, e.Value, e.LastCheck}
				if e.LastCheck.IsZero() || counted[p] {
					continue
				}
				counted[p] = true
				before := c.seen[k]
				if before.lastCheck.Equal(now.lastCheck) {
					continue
				}
				ok += since(before.successes, now.successes)
				failed += since(before.failures, now.failures)
			}
		}
		if ok > 0 {
			c.checks.WithLabelValues(z.Name, "success").Add(float64(ok))
		}
		if failed > 0 {
			c.checks.WithLabelValues(z.Name, "failure").Add(float64(failed))
		}
	}
	c.seen = seen
}

// since is how many checks a consecutive count of now stands for, when it
// was before at the last scrape.
func since(before, now int) int {
	if now >= before && before > 0 {
		return now - before
	}
	return now // a new run
}
