package memory_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/dnsfailover/failover/provider/memory"
	"github.com/libdns/libdns"
)

// A provider whose next write fails, as a real one might.
func Example() {
	ctx := context.Background()
	p := &memory.Provider{}
	_ = p.AddZone("example.com.", libdns.TXT{Name: "@", TTL: time.Hour, Text: "unrelated"})

	www := []libdns.Record{libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.10")}}
	p.FailNext(memory.MethodSetRecords, 1, nil)
	_, err := p.SetRecords(ctx, "example.com.", www)
	fmt.Println(err)
	_, err = p.SetRecords(ctx, "example.com.", www)
	fmt.Println(err, p.Calls(memory.MethodSetRecords))

	for _, r := range p.Records("example.com.") {
		fmt.Printf("%+v\n", r.RR())
	}
	// Output:
	// memory: injected fault
	// <nil> 2
	// {Name:@ TTL:1h0m0s Type:TXT Data:unrelated}
	// {Name:www TTL:1m0s Type:A Data:192.0.2.10}
}
