package failover

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dnsfailover/failover/check"
)

// lags collects how late checks started.
type lags struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *lags) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *lags) quantile(q float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	slices.Sort(l.d)
	return l.d[int(q*float64(len(l.d)-1))]
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// runScale runs records of 2 endpoints, checked every second by check,
// and after a warm-up measures for d: how late checks start, CPU used per
// second of wall time, heap per endpoint and checks per second.
func runScale(b *testing.B, records int, check Checker, target func(i, j int) string, d time.Duration) {
	base := heapInUse()
	var recs []Record
	for i := range records {
		recs = append(recs, Record{
			Name: fmt.Sprintf("r%d", i), Type: "A",
			Endpoints: []Endpoint{{Value: target(i, 0)}, {Value: target(i, 1), Priority: 1}},
			Check:     check,
			Policy:    Policy{Interval: time.Second},
		})
	}
	m, err := New(Config{Zones: []Zone{{Name: testZone, Providers: []Provider{memZone(b)}, Records: recs}}})
	if err != nil {
		b.Fatal(err)
	}
	l := &lags{}
	m.onCheckStart = l.add
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	time.Sleep(3 * time.Second) // every endpoint known, first writes done
	perEndpoint := float64(heapInUse()-base) / float64(2*records)
	l.mu.Lock()
	l.d = l.d[:0]
	l.mu.Unlock()
	cpu0, t0 := cpuTime(), time.Now()
	time.Sleep(d)
	cpu := float64(cpuTime()-cpu0) / float64(time.Since(t0))
	cancel()
	<-done

	b.ReportMetric(float64(l.quantile(0.5).Microseconds())/1000, "lag-p50-ms")
	b.ReportMetric(float64(l.quantile(0.99).Microseconds())/1000, "lag-p99-ms")
	b.ReportMetric(cpu, "cpu-cores")
	b.ReportMetric(perEndpoint, "bytes/endpoint")
	b.ReportMetric(float64(len(l.d))/d.Seconds(), "checks/s")
}

// BenchmarkScale: 20,000 endpoints (10,000 records × 2) checked every
// second with a trivial checker. Run with -benchtime=1x: one run measures
// 10 s.
func BenchmarkScale(b *testing.B) {
	for b.Loop() {
		ok := CheckerFunc(func(context.Context, string) error { return nil })
		runScale(b, 10000, ok, func(i, j int) string { return fmt.Sprintf("10.%d.%d.%d", i/256%256, i%256, j+1) }, 10*time.Second)
	}
}

// BenchmarkScaleTCP: 2,000 endpoints checked every second with real TCP
// connections to a loopback listener (every 127.x.y.z address reaches it).
func BenchmarkScaleTCP(b *testing.B) {
	for b.Loop() {
		ln, err := net.Listen("tcp", "0.0.0.0:0")
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		check := &check.TCP{Port: ln.Addr().(*net.TCPAddr).Port}
		runScale(b, 1000, check, func(i, j int) string { return fmt.Sprintf("127.%d.%d.%d", i/256, i%256, j+1) }, 10*time.Second)
		ln.Close()
	}
}

// BenchmarkStatus: one Status snapshot of 2,000 and 20,000 records of 3
// endpoints each, as the status page and the metrics take it. Status
// holds Manager.mu (which the loop and the zone syncs also take) for the
// whole build, so its time is also how long it can hold them back.
func BenchmarkStatus(b *testing.B) {
	for _, records := range []int{2000, 20000} {
		b.Run(fmt.Sprint(records), func(b *testing.B) {
			var recs []Record
			for i := range records {
				recs = append(recs, Record{Name: fmt.Sprintf("r%d", i), Type: "A", Check: newSwitchboard(),
					Endpoints: []Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.11"}, {Value: "192.0.2.20", Priority: 1}}})
			}
			m, err := New(oneZone(memZone(b), recs...))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				m.Status()
			}
		})
	}
}
