package failover_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
)

// BenchmarkFailoverLatency kills a loopback HTTP backend 20 times and
// polls BIND with real DNS queries every 10 ms until it answers the backup.
// Settings: Interval 1 s, FailAfter 2, fast re-check 250 ms. Run with
// -benchtime=1x; it reports medians and 95th percentiles in ms.
func BenchmarkFailoverLatency(b *testing.B) {
	const runs = 20
	bind := servertest.StartBIND(b, "example.test.", "www 60 IN A 127.0.0.2")
	back := startBackends(b)
	var mu sync.Mutex
	var events []failover.Event
	cfg := failover.Config{
		Zones: []failover.Zone{{
			Name: "example.test.", Providers: []failover.Provider{bind.Provider()},
			Records: []failover.Record{{
				Name: "www", Type: "A",
				Endpoints: []failover.Endpoint{{Value: "127.0.0.2"}, {Value: "127.0.0.3", Priority: 1}},
				Check:     &failover.HTTPCheck{Port: back.port, Host: "www.example.test"},
				Policy:    failover.Policy{Interval: time.Second, FailAfter: 2, FailbackDelay: time.Nanosecond},
			}},
		}},
		OnEvent: func(e failover.Event) { mu.Lock(); events = append(events, e); mu.Unlock() },
	}
	m, err := failover.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()

	await := func(want string) time.Time {
		deadline := time.Now().Add(20 * time.Second)
		for {
			if got, _, err := answer(bind.Addr, "www.example.test."); err == nil && slices.Equal(got, []string{want}) {
				return time.Now()
			}
			if time.Now().After(deadline) {
				b.Fatalf("BIND never answered %s", want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	var toDecision, toAck, toAnswer, engine []time.Duration
	for b.Loop() {
		for range runs {
			await("127.0.0.2")
			time.Sleep(300 * time.Millisecond) // a random phase against the check schedule
			mu.Lock()
			events = nil
			mu.Unlock()
			killed := time.Now()
			back.stop("127.0.0.2")
			answered := await("127.0.0.3")
			time.Sleep(50 * time.Millisecond) // the written event follows the acknowledged update
			mu.Lock()
			var down, decided, written failover.Event
			for _, e := range events {
				switch {
				case e.Kind == failover.EventEndpointDown && down.Time.IsZero():
					down = e
				case e.Kind == failover.EventRecordDecided && decided.Time.IsZero():
					decided = e
				case e.Kind == failover.EventRecordWritten && written.Time.IsZero():
					written = e
				}
			}
			mu.Unlock()
			toDecision = append(toDecision, decided.Time.Sub(killed))
			toAck = append(toAck, written.Time.Sub(decided.Time))
			toAnswer = append(toAnswer, answered.Sub(killed))
			engine = append(engine, written.Time.Add(-written.Duration).Sub(down.Time))
			if err := back.start("127.0.0.2"); err != nil {
				b.Fatal(err)
			}
		}
	}
	report := func(d []time.Duration, name string) {
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, name+"-p50-ms")
		b.ReportMetric(float64(d[len(d)*95/100].Microseconds())/1000, name+"-p95-ms")
	}
	report(toDecision, "down-to-decision")
	report(toAck, "decision-to-ack")
	report(toAnswer, "down-to-answer")
	report(engine, "engine")
}
