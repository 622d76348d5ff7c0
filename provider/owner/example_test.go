package owner_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/dnsfailover/failover/provider/memory"
	"github.com/dnsfailover/failover/provider/owner"
	"github.com/libdns/libdns"
)

// Two deployments on one zone: the first to write www owns it; the
// other's write of www is refused, and the rest of its write goes through.
func Example() {
	ctx := context.Background()
	zone := &memory.Provider{}
	_ = zone.AddZone("example.com.")
	prod, _ := owner.Wrap(zone, "prod")
	staging, _ := owner.Wrap(zone, "staging")
	a := func(name, ip string) libdns.Record {
		return libdns.Address{Name: name, TTL: time.Minute, IP: netip.MustParseAddr(ip)}
	}

	_, err := prod.SetRecords(ctx, "example.com.", []libdns.Record{a("www", "192.0.2.10")})
	fmt.Println("prod:", err)
	written, err := staging.SetRecords(ctx, "example.com.", []libdns.Record{a("www", "198.51.100.10"), a("test", "198.51.100.11")})
	var fe *owner.ForeignError
	fmt.Println("staging refused:", errors.As(err, &fe), fe.Name, fe.Other)
	fmt.Println("staging wrote:", written[0].RR().Name)
	for _, r := range zone.Records("example.com.") {
		rr := r.RR()
		fmt.Println(rr.Name, rr.Type, rr.Data)
	}
	// Output:
	// prod: <nil>
	// staging refused: true www prod
	// staging wrote: test
	// _failover-owner-a.test TXT failover-owner=staging,type=A
	// _failover-owner-a.www TXT failover-owner=prod,type=A
	// test A 198.51.100.11
	// www A 192.0.2.10
}
