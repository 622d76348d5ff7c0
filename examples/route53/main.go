// Command route53 keeps www.<zone> on healthy servers with Amazon Route 53.
// Credentials come from the AWS SDK's usual places (environment, shared
// files, roles); set ZONE ("example.com."), then:
//
//	go run ./examples/route53 -primary 192.0.2.10 -backup 198.51.100.7
//
// A bad profile or missing configuration is reported as an error; the
// process is never ended from inside the provider.
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
	"github.com/dnsfailover/failover/provider/route53"
)

func main() {
	primary := flag.String("primary", "", "address of the preferred server")
	backup := flag.String("backup", "", "address of the server used when the primary is down")
	profile := flag.String("profile", "", "AWS shared configuration profile")
	zoneID := flag.String("hosted-zone-id", "", "hosted zone ID (looked up by name when empty)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	zone := os.Getenv("ZONE")
	if zone == "" || *primary == "" || *backup == "" {
		log.Error("set ZONE, and give -primary and -backup")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	opts := route53.Options{Profile: *profile, WaitForSync: true}
	if *zoneID != "" {
		opts.HostedZoneIDs = map[string]string{zone: *zoneID}
	}
	provider, err := route53.New(ctx, opts)
	if err != nil {
		log.Error("route53", "err", err)
		os.Exit(1)
	}
	m, err := failover.New(failover.Config{
		Zones: []failover.Zone{{
			Name:             zone,
			Providers:        []failover.Provider{provider},
			CheckPropagation: true, // ask the zone's NS servers until they answer each change
			Records: []failover.Record{{
				Name: "www", Type: "A",
				Endpoints: []failover.Endpoint{{Value: *primary}, {Value: *backup, Priority: 1}},
				Check:     failover.All(&check.HTTP{Path: "/healthz"}, &check.TCP{Port: 443}),
				Policy:    failover.Policy{Interval: 10 * time.Second, FailAfter: 3, RecoverAfter: 3},
			}},
		}},
		Logger: log,
	})
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	if err := m.Run(ctx); err != nil {
		log.Error("run", "err", err)
		os.Exit(1)
	}
}
