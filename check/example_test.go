package check_test

import (
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/check"
)

// HTTPS to each endpoint's address with the site's name for Host and SNI;
// the certificate is verified, and the check fails 14 days before it
// expires, so the record moves away from a server whose renewal failed.
func ExampleHTTP() {
	web := &check.HTTP{
		Scheme: "https", Path: "/healthz", Host: "www.example.com",
		ExpectStatus: check.StatusCodes{{Min: 200, Max: 299}},
		BodyContains: "ok",
		TLS:          check.TLSOptions{ExpiryWindow: 14 * 24 * time.Hour},
	}
	_ = failover.Record{
		Name: "www", Type: "A",
		Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}, {Value: "198.51.100.7", Priority: 1}},
		Check:     web,
	}
}

// Banner checks: an SMTP server must greet with 220, a Redis server must
// answer PING.
func ExampleTCP() {
	smtp := &check.TCP{Port: 25, Expect: "220 "}
	redis := &check.TCP{Port: 6379, Send: "PING\r\n", Expect: "+PONG"}
	_ = failover.All(smtp, redis)
}
