package failover

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// checkPropagation asks each authoritative server of r's zone for r until
// it answers values, and reports per server how long that took since
// decidedAt, or warns after PropagationTimeout. It returns when every
// server has been reported on or ctx ends (a newer decision cancels it).
func (m *Manager) checkPropagation(ctx context.Context, r *recordRun, values []string, decidedAt time.Time) {
	servers := r.zone.spec.nameservers
	if len(servers) == 0 {
		var err error
		if servers, err = lookupNameservers(ctx, r.zone.spec.name); err != nil {
			m.emit(Event{Kind: EventPropagationSlow, Time: time.Now(), Record: r.spec.id, Values: values, Err: err})
			return
		}
	}
	var wg sync.WaitGroup
	for _, server := range servers {
		wg.Go(func() { m.askUntilPropagated(ctx, r, server, values, decidedAt) })
	}
	wg.Wait()
}

// askUntilPropagated asks server every PropagationInterval until it
// answers values, then emits EventPropagated; past PropagationTimeout it
// emits EventPropagationSlow and stops.
func (m *Manager) askUntilPropagated(ctx context.Context, r *recordRun, server string, values []string, decidedAt time.Time) {
	deadline := decidedAt.Add(m.cfg.PropagationTimeout)
	for {
		got, err := askServer(ctx, server, r.spec.id)
		if err == nil && sameValues(got, values) {
			m.emit(Event{Kind: EventPropagated, Time: time.Now(), Record: r.spec.id, Nameserver: server, Values: values, Elapsed: time.Since(decidedAt)})
			return
		}
		if ctx.Err() != nil {
			return
		}
		if !time.Now().Before(deadline) {
			m.emit(Event{Kind: EventPropagationSlow, Time: time.Now(), Record: r.spec.id, Nameserver: server, Values: values, Previous: got, Err: err, Elapsed: time.Since(decidedAt)})
			return
		}
		t := time.NewTimer(m.cfg.PropagationInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// askServer asks server directly, without recursion, for the record and
// returns the values it answers, normalised (none for NXDOMAIN or NODATA).
func askServer(ctx context.Context, server string, id RecordID) ([]string, error) {
	qtype := dns.StringToType[id.Type]
	q := new(dns.Msg)
	q.SetQuestion(libdns.AbsoluteName(id.Name, id.Zone), qtype)
	q.RecursionDesired = false
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, _, err := (&dns.Client{Net: "udp"}).ExchangeContext(ctx, q, server)
	if err == nil && resp.Truncated {
		resp, _, err = (&dns.Client{Net: "tcp"}).ExchangeContext(ctx, q, server)
	}
	if err != nil {
		return nil, err
	}
	if resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError {
		return nil, fmt.Errorf("%s answered %s", server, dns.RcodeToString[resp.Rcode])
	}
	values := []string{}
	for _, rr := range resp.Answer {
		if rr.Header().Rrtype != qtype || !strings.EqualFold(rr.Header().Name, q.Question[0].Name) {
			continue
		}
		data := strings.TrimPrefix(rr.String(), rr.Header().String())
		if v, err := normalizeValue(id.Type, data); err == nil {
			data = v
		}
		if !slices.Contains(values, data) {
			values = append(values, data)
		}
	}
	return values, nil
}

// lookupNameservers returns the zone's NS hosts, as the system resolver
// finds them, with port 53.
func lookupNameservers(ctx context.Context, zone string) ([]string, error) {
	ns, err := net.DefaultResolver.LookupNS(ctx, zone)
	if err != nil {
		return nil, fmt.Errorf("looking up the NS records of %s: %w", zone, err)
	}
	var out []string
	for _, n := range ns {
		out = append(out, net.JoinHostPort(strings.TrimSuffix(n.Host, "."), "53"))
	}
	return out, nil
}
