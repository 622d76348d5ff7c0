package authdns_test

import (
	"context"
	"fmt"
	"log"
	"net/netip"
	"strings"
	"time"

	"github.com/dnsfailover/failover/internal/authdns"
	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// staticZone is a RecordGetter with fixed records; in the demo it is the
// in-memory provider that the failover Manager writes to.
type staticZone []libdns.Record

func (z staticZone) GetRecords(context.Context, string) ([]libdns.Record, error) {
	return z, nil
}

func Example() {
	s, err := authdns.Start("127.0.0.1:0", "example.test.", staticZone{
		libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.10")},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	// What `dig @127.0.0.1 -p PORT www.example.test A` asks.
	for _, name := range []string{"www.example.test.", "nope.example.test."} {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		resp, _, err := new(dns.Client).Exchange(m, s.Addr())
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(name, dns.RcodeToString[resp.Rcode], "aa:", resp.Authoritative)
		for _, rr := range append(resp.Answer, resp.Ns...) {
			fmt.Println("  ", strings.Join(strings.Fields(rr.String()), " "))
		}
	}
	// Output:
	// www.example.test. NOERROR aa: true
	//    www.example.test. 60 IN A 192.0.2.10
	// nope.example.test. NXDOMAIN aa: true
	//    example.test. 30 IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 30
}
