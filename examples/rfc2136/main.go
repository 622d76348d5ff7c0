// Command rfc2136 keeps www.<zone> on healthy servers on any DNS server
// that takes RFC 2136 updates signed with TSIG: BIND, Knot, PowerDNS. The
// server must also allow zone transfers (AXFR) to the key, which is how the
// zone is read. Set ZONE ("example.com."), TSIG_KEY_NAME and TSIG_SECRET
// (base64, hmac-sha256), then:
//
//	go run ./examples/rfc2136 -server 192.0.2.53:53 -primary 192.0.2.10 -backup 198.51.100.7
//
// In BIND's named.conf the zone needs:
//
//	update-policy { grant KEYNAME zonesub ANY; };
//	allow-transfer { key KEYNAME; };
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/check"
	"github.com/dnsfailover/failover/provider/rfc2136"
)

func main() {
	server := flag.String("server", "", "primary DNS server, host:port")
	primary := flag.String("primary", "", "address of the preferred server")
	backup := flag.String("backup", "", "address of the server used when the primary is down")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	zone, keyName, secret := os.Getenv("ZONE"), os.Getenv("TSIG_KEY_NAME"), os.Getenv("TSIG_SECRET")
	if zone == "" || keyName == "" || secret == "" || *server == "" || *primary == "" || *backup == "" {
		log.Error("set ZONE, TSIG_KEY_NAME and TSIG_SECRET, and give -server, -primary and -backup")
		os.Exit(2)
	}
	provider := &rfc2136.Provider{KeyName: keyName, KeyAlg: "hmac-sha256", Key: secret, Server: *server}
	m, err := failover.New(failover.Config{
		Zones: []failover.Zone{{
			Name:        zone,
			Providers:   []failover.Provider{provider},
			Nameservers: []string{*server}, // ask it directly until it answers each change
			Records: []failover.Record{{
				Name: "www", Type: "A",
				Endpoints: []failover.Endpoint{{Value: *primary}, {Value: *backup, Priority: 1}},
				Check:     &check.HTTP{Path: "/healthz"},
				Policy: failover.Policy{
					Interval: 2 * time.Second, FailAfter: 2, // about 2.5 s to detect a failure
					TTL: 300 * time.Second, FailoverTTL: 30 * time.Second,
				},
			}},
		}},
		Logger: log,
	})
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := m.Run(ctx); err != nil {
		log.Error("run", "err", err)
		os.Exit(1)
	}
}
