package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/libdns/libdns"
)

// onlineTimeout bounds one read of one zone from one provider.
const onlineTimeout = 30 * time.Second

// online reads every zone from every provider, with the credentials the
// daemon would use, and reports for each managed record what the provider
// holds (whether it exists, its values and TTL), one line each. It writes
// nothing. It returns false when a zone could not be read.
func online(ctx context.Context, lc *loaded, w io.Writer) bool {
	ok := true
	for zi, z := range lc.Zones {
		for pi, p := range z.Providers {
			name := fmt.Sprintf("providers[%d]", pi)
			if zi < len(lc.providers) && pi < len(lc.providers[zi]) {
				name = fmt.Sprintf("providers[%d] (%s)", pi, lc.providers[zi][pi])
			}
			rctx, cancel := context.WithTimeout(ctx, onlineTimeout)
			recs, err := p.GetRecords(rctx, z.Name)
			cancel()
			if err != nil {
				fmt.Fprintf(w, "%s %s: cannot read the zone: %s\n", z.Name, name, clip(err.Error(), 400))
				ok = false
				continue
			}
			type rrset struct {
				values []string
				ttl    time.Duration
			}
			sets := map[[2]string]*rrset{}
			for _, r := range recs {
				rr := r.RR()
				k := [2]string{strings.ToLower(rr.Name), strings.ToUpper(rr.Type)}
				if sets[k] == nil {
					sets[k] = &rrset{ttl: rr.TTL}
				}
				sets[k].values = append(sets[k].values, rr.Data)
			}
			for _, r := range z.Records {
				label := fmt.Sprintf("%s %s %s:", z.Name, name, libdns.AbsoluteName(r.Name, z.Name)+" "+strings.ToUpper(r.Type))
				s := sets[[2]string{strings.ToLower(r.Name), strings.ToUpper(r.Type)}]
				if s == nil {
					fmt.Fprintf(w, "%s absent\n", label)
					continue
				}
				slices.Sort(s.values)
				fmt.Fprintf(w, "%s exists, TTL %v, values %s%s\n", label, s.ttl, strings.Join(s.values, " "), strangers(s.values, r.Endpoints))
			}
		}
	}
	return ok
}

// strangers names the values that are none of the record's endpoints (a
// hand edit, or another tool managing the name).
func strangers(values []string, eps []failover.Endpoint) string {
	var out []string
	for _, v := range values {
		if !slices.ContainsFunc(eps, func(e failover.Endpoint) bool { return sameValue(e.Value, v) }) {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return " (not endpoints: " + strings.Join(out, " ") + ")"
}

// sameValue compares two record values as DNS does: addresses by value,
// names without case and trailing dot.
func sameValue(a, b string) bool {
	if x, err := netip.ParseAddr(a); err == nil {
		y, err := netip.ParseAddr(b)
		return err == nil && x == y
	}
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}
