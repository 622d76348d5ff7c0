// Command cloudflare keeps www.<zone> on healthy servers with Cloudflare
// DNS. Set CLOUDFLARE_API_TOKEN (a token with Zone.DNS:Edit) and ZONE
// ("example.com."), then:
//
//	go run ./examples/cloudflare -primary 192.0.2.10 -backup 198.51.100.7
//
// Add -dry-run to see every decision without writing anything.
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
	"github.com/dnsfailover/failover/provider/cloudflare"
)

func main() {
	primary := flag.String("primary", "", "address of the preferred server")
	backup := flag.String("backup", "", "address of the server used when the primary is down")
	dryRun := flag.Bool("dry-run", false, "decide and log, but write nothing")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	zone, token := os.Getenv("ZONE"), os.Getenv("CLOUDFLARE_API_TOKEN")
	if zone == "" || token == "" || *primary == "" || *backup == "" {
		log.Error("set ZONE and CLOUDFLARE_API_TOKEN, and give -primary and -backup")
		os.Exit(2)
	}

	provider, err := cloudflare.New(token, cloudflare.Options{})
	if err != nil {
		log.Error("cloudflare", "err", err)
		os.Exit(1)
	}
	m, err := failover.New(failover.Config{
		Zones: []failover.Zone{{
			Name:      zone,
			Providers: []failover.Provider{provider},
			Records: []failover.Record{{
				Name: "www", Type: "A",
				Endpoints: []failover.Endpoint{{Value: *primary}, {Value: *backup, Priority: 1}},
				Check: &check.HTTP{
					Scheme: "https", Path: "/healthz", Host: "www." + zone[:len(zone)-1],
					TLS: check.TLSOptions{ExpiryWindow: 7 * 24 * time.Hour},
				},
				// Cloudflare's TTL floor is 60 s: the Manager raises the
				// 30 s failover TTL to it by itself.
				Policy: failover.Policy{Interval: 10 * time.Second, FailbackDelay: 5 * time.Minute},
			}},
		}},
		Logger: log,
		DryRun: *dryRun,
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
