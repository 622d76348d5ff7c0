// Package check holds the built-in health checks of failover: each is a
// failover.Checker, called with an endpoint's value as its target, so one
// check serves every endpoint of a record.
//
//   - HTTP: an HTTP(S) request to the target's address with the site's Host
//     and SNI; status codes, body and header patterns.
//   - TCP: a connection, optionally a banner exchange, optionally over TLS.
//   - TLS: a handshake: chain, name, version, certificate expiry window.
//   - DNS: a query to the target as a DNS server: rcode and answer.
//   - ICMP: echo requests over unprivileged datagram sockets or raw ones.
//   - Exec: a command with Nagios exit codes and a minimal environment.
//
// The gRPC health check is in check/grpccheck, so that gRPC is compiled
// only by programs that use it. Every check validates its settings
// (Validate, called by failover.New), compares equal to another check of
// the same settings (SameCheck, so records share one probe), and reports
// the certificate it last saw (CertificateExpiry) where it speaks TLS. HTTP
// and TCP can also watch an endpoint through an idle connection
// (Watching), for failover in milliseconds.
//
//	web := &check.HTTP{Scheme: "https", Path: "/healthz", Host: "www.example.com"}
//	smtp := &check.TCP{Port: 25, Expect: "220 "}
//	_ = failover.All(web, smtp)
package check
