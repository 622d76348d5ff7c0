module github.com/dnsfailover/failover

go 1.26.0

require (
	github.com/libdns/libdns v1.1.1
	github.com/miekg/dns v1.1.73
	golang.org/x/sync v0.25.0
)

require (
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)
