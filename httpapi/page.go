package httpapi

import (
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dnsfailover/failover"
)

//go:embed status.html
var statusHTML string

var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return time.Since(t).Round(time.Second).String() + " ago"
	},
	"in": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		if d := time.Until(t); d > 0 {
			return "in " + d.Round(time.Second).String()
		}
		return "done"
	},
	"join":  func(v []string) string { return strings.Join(v, ", ") },
	"cert":  certificateNote,
	"state": recordState,
	"class": func(r failover.RecordStatus) string {
		switch recordState(r) {
		case stateAllDown:
			return "bad"
		case stateFailedOver, stateDeciding:
			return "warn"
		}
		return ""
	},
}).Parse(statusHTML))

// certificateNote says, in days, when a certificate that expires at
// notAfter expires, seen at now: "cert expires in 30 days", "cert expires
// in 5 hours", "cert expired 2 days ago"; nothing for a zero notAfter.
func certificateNote(notAfter, now time.Time) string {
	const day = 24 * time.Hour
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	d := notAfter.Sub(now)
	switch {
	case notAfter.IsZero():
		return ""
	case d <= -day:
		return "cert expired " + plural(int(-d/day), "day") + " ago"
	case d <= 0:
		return "cert expired"
	case d < time.Hour:
		return "cert expires within the hour"
	case d < 2*day:
		return "cert expires in " + plural(int(d/time.Hour), "hour")
	}
	return "cert expires in " + plural(int(d/day), "day")
}

// summary is what the top of the page counts.
type summary struct {
	Records    int
	ByState    []stateCount
	OutOfSync  []string // "zone provider"
	Overrides  int
	Unhealthy  int
	Zones      []string // every zone, for the filter
	Filter     filter
	FilterZone string
}

type stateCount struct {
	State string
	Count int
}

func summarize(st failover.Status, f filter) summary {
	s := summary{Filter: f, FilterZone: f.zone}
	counts := map[string]int{}
	for _, z := range st.Zones {
		s.Zones = append(s.Zones, z.Name)
		for _, p := range z.Providers {
			if !p.InSync {
				s.OutOfSync = append(s.OutOfSync, z.Name+" "+p.Name)
			}
		}
		for _, r := range z.Records {
			s.Records++
			counts[recordState(r)]++
			if needsAttention(r) {
				s.Unhealthy++
			}
			for _, e := range r.Endpoints {
				if e.Override != failover.NoOverride {
					s.Overrides++
				}
			}
		}
	}
	for _, state := range states {
		s.ByState = append(s.ByState, stateCount{state, counts[state]})
	}
	return s
}

// page renders the Status as HTML: a summary of the whole Status, then the
// zones the filter keeps, each record that needs attention first.
func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	st := h.m.Status()
	f, err := parseFilter(r, st)
	if err != nil {
		http.Error(w, err.Error(), filterStatus(err))
		return
	}
	sum := summarize(st, f)
	shown := f.apply(st)
	for i := range shown.Zones {
		recs := slices.Clone(shown.Zones[i].Records)
		slices.SortStableFunc(recs, func(a, b failover.RecordStatus) int {
			return slices.Index(states, recordState(a)) - slices.Index(states, recordState(b))
		})
		shown.Zones[i].Records = recs
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	statusPage.Execute(w, struct {
		Status  failover.Status
		Summary summary
		Refresh int
		Now     time.Time
	}{shown, sum, int(h.opts.Refresh / time.Second), time.Now()})
}
