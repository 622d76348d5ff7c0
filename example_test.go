package failover_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/check"
	"github.com/dnsfailover/failover/provider/memory"
)

// A record with a primary and a backup: the primary is down, so the Manager
// publishes the backup.
func Example() {
	provider := &memory.Provider{} // any libdns provider: Cloudflare, Route 53, RFC 2136, PowerDNS…
	if err := provider.AddZone("example.com."); err != nil {
		panic(err)
	}
	check := failover.CheckerFunc(func(ctx context.Context, target string) error {
		if target == "192.0.2.10" {
			return errors.New("connection refused")
		}
		return nil
	})
	written := make(chan failover.Event, 1)
	m, err := failover.New(failover.Config{
		Zones: []failover.Zone{{
			Name:      "example.com.",
			Providers: []failover.Provider{provider},
			Records: []failover.Record{{
				Name: "www", Type: "A",
				Endpoints: []failover.Endpoint{
					{Value: "192.0.2.10", Priority: 0},
					{Value: "198.51.100.7", Priority: 1},
				},
				Check:  check,
				Policy: failover.Policy{Interval: 100 * time.Millisecond, FailAfter: 1, RecoverAfter: 1},
			}},
		}},
		OnEvent: func(e failover.Event) {
			if e.Kind == failover.EventRecordWritten {
				written <- e
			}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()

	e := <-written
	fmt.Println(e.Record, e.Values, e.TTL)
	cancel()
	<-done
	// Output: www.example.com. A [198.51.100.7] 1m0s
}

// New reports every problem of a configuration at once, each naming its
// zone, record, endpoint and field.
func ExampleNew_invalid() {
	_, err := failover.New(failover.Config{
		Zones: []failover.Zone{{
			Name:      "example.com",
			Providers: []failover.Provider{&memory.Provider{}},
			Records: []failover.Record{{
				Name: "www", Type: "A",
				Endpoints: []failover.Endpoint{{Value: "10.0.0.300"}},
				Check:     &check.HTTP{},
				Policy:    failover.Policy{Interval: time.Second, Timeout: 2 * time.Second},
			}},
		}},
	})
	fmt.Println(err)
	// Output:
	// failover: zone "example.com": Name: zone name must be fully qualified, with a trailing dot
	// failover: zone "example.com": record "www A": Policy.Timeout: 2s is not less than Interval 1s
	// failover: zone "example.com": record "www A": endpoint "10.0.0.300": Endpoints[0].Value: "10.0.0.300" is not an IP address
}

// AtLeast combines checks: here an endpoint is healthy when two of its
// three checks pass.
func ExampleAtLeast() {
	ok := failover.CheckerFunc(func(context.Context, string) error { return nil })
	refused := failover.CheckerFunc(func(context.Context, string) error { return errors.New("connection refused") })
	fmt.Println(failover.AtLeast(2, ok, refused, ok).Check(context.Background(), "192.0.2.10"))
	fmt.Println(failover.AtLeast(2, ok, refused, refused).Check(context.Background(), "192.0.2.10"))
	// Output:
	// <nil>
	// 2 of 3 checks failed, 2 must pass: check 1: connection refused
	// check 2: connection refused
}
