package check

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dnsfailover/failover/internal/dnsname"
	"github.com/miekg/dns"
	"golang.org/x/net/idna"
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
	// missing), in ASCII: an internationalised name is written as its
	// A-label ("xn--bcher-kva.example", not "bücher.example"), as zones
	// hold it; Validate refuses another and says which A-label to write.
	Name string
	// Type to ask for, such as "A", "AAAA", "SOA" or "TXT". Empty means
	// "A". Types that only a zone transfer or a wildcard query carries
	// (AXFR, IXFR, ANY, and the meta types OPT, TSIG, TKEY, MAILA, MAILB)
	// are refused: no health query can use them.
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

// Validate reports a missing Name, one that is not a domain name or not
// ASCII, a Port outside 1–65535, a Type or ExpectRcode that DNS does not
// know, and a Type no health query can ask for (AXFR, IXFR, ANY, …).
func (c *DNS) Validate() error {
	_, _, err := c.parse()
	return err
}

// queryOnlyTypes are the types a health query cannot ask for: AXFR and
// IXFR need a transfer over TCP, ANY is answered with a stand-in (RFC
// 8482) or refused, and the rest are not record types one can ask for.
var queryOnlyTypes = map[uint16]bool{
	dns.TypeAXFR: true, dns.TypeIXFR: true, dns.TypeANY: true,
	dns.TypeOPT: true, dns.TypeTSIG: true, dns.TypeTKEY: true,
	dns.TypeMAILA: true, dns.TypeMAILB: true,
}

// notASCII says what is wrong with a name that is not ASCII, naming its
// A-label when it has one; it returns "" for an ASCII name. The query
// sends the name's bytes as they are, and zones hold A-labels, so
// "bücher.example" would never be found.
func notASCII(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			alabel, err := idna.Lookup.ToASCII(name)
			if err != nil {
				return fmt.Sprintf("%q is not ASCII and has no A-label (%v)", dnsname.Quote(name), err)
			}
			return fmt.Sprintf("%q is not ASCII: write its A-label %q, as the zone holds it", dnsname.Quote(name), alabel)
		}
	}
	return ""
}

// parse returns the query type and expected rcode, or what is wrong.
func (c *DNS) parse() (uint16, int, error) {
	p := problems{kind: "dns"}
	p.port(c.Port, false)
	if c.Name == "" {
		p.add("Name", "required: the name to ask for")
	} else if _, ok := dns.IsDomainName(c.Name); !ok {
		p.add("Name", "%q is not a domain name", dnsname.Quote(c.Name))
	} else if msg := notASCII(c.Name); msg != "" {
		p.add("Name", "%s", msg)
	}
	t := strings.ToUpper(c.Type)
	if t == "" {
		t = "A"
	}
	qtype, ok := dns.StringToType[t]
	switch {
	case !ok:
		p.add("Type", "unknown type %q", dnsname.Quote(c.Type))
	case queryOnlyTypes[qtype]:
		p.add("Type", "%s: no health query can ask for it (a zone transfer, a wildcard or a meta type); ask for SOA to check a zone", t)
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
