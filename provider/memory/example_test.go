package memory_test

import (
	"context"
	"errors"
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

// A hook that makes every SetRecords call stop after its first RRset, as a
// provider without atomic batches may.
func ExampleProvider_SetHook() {
	ctx := context.Background()
	p := &memory.Provider{}
	_ = p.AddZone("example.com.")
	p.SetHook(func(c memory.Call) *memory.Fault {
		if c.Method == memory.MethodSetRecords {
			return &memory.Fault{Partial: 1}
		}
		return nil
	})

	set, err := p.SetRecords(ctx, "example.com.", []libdns.Record{
		libdns.Address{Name: "www", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.10")},
		libdns.Address{Name: "api", TTL: time.Minute, IP: netip.MustParseAddr("192.0.2.20")},
	})
	fmt.Println(errors.Is(err, memory.ErrInjected))
	for _, r := range set {
		fmt.Printf("set %s %s\n", r.RR().Name, r.(libdns.Address).IP)
	}
	fmt.Println(len(p.Records("example.com.")), "record in the zone")
	// Output:
	// true
	// set www 192.0.2.10
	// 1 record in the zone
}
