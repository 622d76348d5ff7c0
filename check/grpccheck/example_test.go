package grpccheck_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/check/grpccheck"
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

// One check on its own, over TLS, verifying the server's certificate for
// api.example.com although it is dialled by IP address.
func ExampleCheck() {
	check := &grpccheck.Check{
		Port:    443,
		Service: "api",
		Host:    "api.example.com",
		TLS:     &tls.Config{MinVersion: tls.VersionTLS12},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := check.Check(ctx, "192.0.2.10"); err != nil {
		fmt.Println("unhealthy:", err)
	}
}
