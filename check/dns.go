package check

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dnsfailover/failover/internal/dnsname"
	"github.com/miekg/dns"
)

// DNS queries the target as a DNS server, for failover of resolvers
// and authoritative servers. It asks for Name and Type over UDP, retrying
// over TCP when the answer is truncated, and is healthy when the response
// code is ExpectRcode and the answer holds what Contains and Matches ask.
// Name is required. A DNS is safe for concurrent use.
type DNS struct {
	// Port to query. Zero means 53.
	Port int
	// Name to ask for, fully qualified (a trailing dot is added if
	// missing).
	Name string
	// Type to ask for, such as "A", "AAAA", "SOA" or "TXT". Empty means "A".
	Type string
	// ExpectRcode is the healthy response code as dig prints it, such as
	// "NOERROR" or "NXDOMAIN". Empty means "NOERROR".
	ExpectRcode string
	// Contains, when set, must appear in the data of some answer record
	// (such as "192.0.2.10").
	Contains string
	// Matches, when set, must match the data of some answer record.
	Matches *regexp.Regexp
	// RecursionDesired sets the RD bit, to check a recursive resolver.
	RecursionDesired bool
}

// Check queries target and reports why it is not healthy.
func (c *DNS) Check(ctx context.Context, target string) error {
	qtype, rcode, err := c.parse()
	if err != nil {
		return err
	}
	port := c.Port
	if port == 0 {
		port = 53
	}
	addr := net.JoinHostPort(target, strconv.Itoa(port))
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(c.Name), qtype)
	q.RecursionDesired = c.RecursionDesired
	what := fmt.Sprintf("dns %s %s %s", addr, dns.Fqdn(c.Name), dns.TypeToString[qtype])

	start := time.Now()
	resp, _, err := (&dns.Client{Net: "udp"}).ExchangeContext(ctx, q, addr)
	if err == nil && resp.Truncated {
		resp, _, err = (&dns.Client{Net: "tcp"}).ExchangeContext(ctx, q, addr)
	}
	if err != nil {
		return fmt.Errorf("%s: %w after %v", what, ctxErr(ctx, unwrapOp(err)), time.Since(start).Round(time.Microsecond))
	}
	if resp.Rcode != rcode {
		return fmt.Errorf("%s: rcode %s, want %s", what, dns.RcodeToString[resp.Rcode], dns.RcodeToString[rcode])
	}
	if c.Contains == "" && c.Matches == nil {
		return nil
	}
	var data []string
	for _, rr := range resp.Answer {
		d := strings.TrimPrefix(rr.String(), rr.Header().String())
		if (c.Contains == "" || strings.Contains(d, c.Contains)) && (c.Matches == nil || c.Matches.MatchString(d)) {
			return nil
		}
		data = append(data, d)
	}
	want := fmt.Sprintf("%q", c.Contains)
	if c.Matches != nil {
		want = fmt.Sprintf("/%s/", c.Matches)
	}
	return fmt.Errorf("%s: no answer holds %s (answers: %q)", what, want, data)
}

// Validate reports a missing Name or one that is not a domain name, a
// Port outside 1–65535, and a Type or ExpectRcode that DNS does not know.
func (c *DNS) Validate() error {
	_, _, err := c.parse()
	return err
}

// parse returns the query type and expected rcode, or what is wrong.
func (c *DNS) parse() (uint16, int, error) {
	p := problems{kind: "dns"}
	p.port(c.Port, false)
	if c.Name == "" {
		p.add("Name", "required: the name to ask for")
	} else if _, ok := dns.IsDomainName(c.Name); !ok {
		p.add("Name", "%q is not a domain name", dnsname.Quote(c.Name))
	}
	t := strings.ToUpper(c.Type)
	if t == "" {
		t = "A"
	}
	qtype, ok := dns.StringToType[t]
	if !ok {
		p.add("Type", "unknown type %q", dnsname.Quote(c.Type))
	}
	r := strings.ToUpper(c.ExpectRcode)
	if r == "" {
		r = "NOERROR"
	}
	rcode, ok := dns.StringToRcode[r]
	if !ok {
		p.add("ExpectRcode", "unknown response code %q", dnsname.Quote(c.ExpectRcode))
	}
	return qtype, rcode, p.err()
}
