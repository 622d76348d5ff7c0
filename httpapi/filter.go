package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/dnsfailover/failover"
)

// filter is what the ?zone= and ?unhealthy= query parameters keep of a
// Status.
type filter struct {
	zone      string // one zone by name; empty keeps every zone
	Unhealthy bool   // keep only the records that need attention
}

// errUnknownZone is a ?zone= that names no zone of the Manager.
var errUnknownZone = errors.New("unknown zone")

// parseFilter reads the query parameters against st. A zone is matched
// as DNS names are, without regard to case or the final dot; a zone that
// is not in st is errUnknownZone, so that a typo never reads as "nothing
// unhealthy".
func parseFilter(r *http.Request, st failover.Status) (filter, error) {
	q := r.URL.Query()
	var f filter
	if want := q.Get("zone"); want != "" {
		for _, z := range st.Zones {
			if strings.EqualFold(strings.TrimSuffix(z.Name, "."), strings.TrimSuffix(want, ".")) {
				f.zone = z.Name
			}
		}
		if f.zone == "" {
			return f, fmt.Errorf("%w %q", errUnknownZone, want)
		}
	}
	if v := q.Get("unhealthy"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, fmt.Errorf("unhealthy: %q is not 1, 0, true or false", v)
		}
		f.Unhealthy = b
	}
	return f, nil
}

// apply returns the part of st the filter keeps. A zone is kept whole (with
// its providers) when any of its records is kept or it has a provider out
// of sync.
func (f filter) apply(st failover.Status) failover.Status {
	out := failover.Status{DryRun: st.DryRun, Cluster: st.Cluster}
	for _, z := range st.Zones {
		if f.zone != "" && z.Name != f.zone {
			continue
		}
		if f.Unhealthy {
			z.Records = slices.DeleteFunc(slices.Clone(z.Records), func(r failover.RecordStatus) bool { return !needsAttention(r) })
			if len(z.Records) == 0 && !slices.ContainsFunc(z.Providers, outOfSync) {
				continue
			}
		}
		out.Zones = append(out.Zones, z)
	}
	return out
}

func outOfSync(p failover.ProviderStatus) bool { return !p.InSync }

// needsAttention reports whether a record is not where it should be: all
// down, failed over from its preferred tier, still deciding, or with an
// endpoint that is not up or is overridden.
func needsAttention(r failover.RecordStatus) bool {
	return recordState(r) != stateOK || slices.ContainsFunc(r.Endpoints, func(e failover.EndpointStatus) bool {
		return e.Health != failover.HealthUp || e.Override != failover.NoOverride
	})
}

// The states a record is counted in by the page's summary, worst first.
const (
	stateAllDown    = "all down"
	stateFailedOver = "failed over"
	stateDeciding   = "deciding"
	stateOK         = "on preferred tier"
)

var states = []string{stateAllDown, stateFailedOver, stateDeciding, stateOK}

// recordState says where a record stands.
func recordState(r failover.RecordStatus) string {
	switch {
	case !r.Decided:
		return stateDeciding
	case r.AllDown:
		return stateAllDown
	}
	for _, e := range r.Endpoints {
		if e.Priority < r.Priority {
			return stateFailedOver
		}
	}
	return stateOK
}
