package failover_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/check"
	"github.com/dnsfailover/failover/internal/servertest"
)

// BenchmarkFailoverLatency kills a loopback HTTP backend 20 times and
// polls BIND with real DNS queries every few milliseconds until it answers
// the backup. Settings: Interval 1 s, FailAfter 2, fast re-check 250 ms.
// "polling" closes the backend's listener and waits for the checks;
// "watching" kills a backend process with SIGKILL while a watching check
// holds a connection to it (confirmations 5 ms apart). Run with
// -benchtime=1x; it reports medians and 95th percentiles in ms.
func BenchmarkFailoverLatency(b *testing.B) {
	b.Run("polling", func(b *testing.B) { measureFailover(b, false) })
	b.Run("watching", func(b *testing.B) { measureFailover(b, true) })
}

// backendProcess runs the test binary as an HTTP server on addr (see
// TestMain), a process of its own that can be killed like a crashed one.
func backendProcess(b testing.TB, addr string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FAILOVER_TEST_BACKEND_ADDR="+addr)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return cmd
		}
		if time.Now().After(deadline) {
			b.Fatalf("backend process on %s did not start", addr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func measureFailover(b *testing.B, watching bool) {
	const runs = 20
	bind := servertest.StartBIND(b, "example.test.", "www 60 IN A 127.0.0.2")
	back := startBackends(b) // 127.0.0.3 is the backup; 127.0.0.2 is replaced by a process when watching
	primary := net.JoinHostPort("127.0.0.2", strconv.Itoa(back.port))
	var mu sync.Mutex
	var events []failover.Event
	policy := failover.Policy{Interval: time.Second, FailAfter: 2, FailbackDelay: time.Nanosecond}
	if watching {
		policy.ConfirmInterval = 5 * time.Millisecond
	}
	m, err := failover.New(failover.Config{
		Zones: []failover.Zone{{
			Name: "example.test.", Providers: []failover.Provider{bind.Provider()},
			Records: []failover.Record{{
				Name: "www", Type: "A",
				Endpoints: []failover.Endpoint{{Value: "127.0.0.2"}, {Value: "127.0.0.3", Priority: 1}},
				Check:     &check.HTTP{Port: back.port, Host: "www.example.test", Watching: watching},
				Policy:    policy,
			}},
		}},
		OnEvent: func(e failover.Event) { mu.Lock(); events = append(events, e); mu.Unlock() },
	})
	if err != nil {
		b.Fatal(err)
	}
	var proc *exec.Cmd
	if watching {
		back.stop("127.0.0.2")
		proc = backendProcess(b, primary)
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
			time.Sleep(2 * time.Millisecond)
		}
	}
	first := func(k failover.EventKind) failover.Event {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range events {
			if e.Kind == k {
				return e
			}
		}
		return failover.Event{}
	}
	var toNotice, toDecision, toAck, toAnswer, engine []time.Duration
	for b.Loop() {
		for range runs {
			await("127.0.0.2")
			time.Sleep(300 * time.Millisecond) // a random phase against the check schedule, and the watch connected
			mu.Lock()
			events = nil
			mu.Unlock()
			killed := time.Now()
			if watching {
				proc.Process.Kill()
				proc.Wait()
			} else {
				back.stop("127.0.0.2")
			}
			answered := await("127.0.0.3")
			time.Sleep(50 * time.Millisecond) // the written event follows the acknowledged update
			down, decided, written := first(failover.EventEndpointDown), first(failover.EventRecordDecided), first(failover.EventRecordWritten)
			if watching {
				toNotice = append(toNotice, first(failover.EventSuspected).Time.Sub(killed))
			}
			toDecision = append(toDecision, decided.Time.Sub(killed))
			toAck = append(toAck, written.Time.Sub(decided.Time))
			toAnswer = append(toAnswer, answered.Sub(killed))
			engine = append(engine, written.Time.Add(-written.CallDuration).Sub(down.Time))
			if watching {
				proc = backendProcess(b, primary)
			} else if err := back.start("127.0.0.2"); err != nil {
				b.Fatal(err)
			}
		}
	}
	if watching {
		proc.Process.Kill()
		proc.Wait()
	}
	report := func(d []time.Duration, name string) {
		if len(d) == 0 {
			return
		}
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, name+"-p50-ms")
		b.ReportMetric(float64(d[len(d)*95/100].Microseconds())/1000, name+"-p95-ms")
	}
	report(toNotice, "kill-to-notice")
	report(toDecision, "down-to-decision")
	report(toAck, "decision-to-ack")
	report(toAnswer, "down-to-answer")
	report(engine, "engine")
}
