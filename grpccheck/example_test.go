package grpccheck_test

import (
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/grpccheck"
)

// A record whose endpoints are healthy when their gRPC "api" service is
// serving.
func Example() {
	_ = failover.Record{
		Name: "api", Type: "A",
		Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.20", Priority: 1}},
		Check:     &grpccheck.Check{Port: 50051, Service: "api"},
		Policy:    failover.Policy{Interval: 2 * time.Second},
	}
}
