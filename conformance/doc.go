// Package conformance runs libdns's own conformance suite
// (github.com/libdns/libdns/libdnstest, shipped with libdns v1.2.0-alpha.1)
// against this module's providers: the in-memory provider, the Cloudflare
// and Route 53 wrappers on their fakes, RFC 2136 on real BIND and Knot, and
// PowerDNS. It is a module of its own so that the main module stays on
// libdns v1.1.1, whose exported API the alpha keeps unchanged; `make test`
// runs it.
package conformance
