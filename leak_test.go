package failover

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"
)

// Checks leave nothing behind: after many checks, healthy, failing and
// timed out, the number of goroutines returns to where it was.
func TestChecksLeakNothing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	target, port := hostPort(t, srv.Listener.Addr().String())
	banner := bannerServer(t, nil, 0)
	silent := silentServer(t)
	dnsPort := dnsServer(t)
	checks := []Checker{
		&HTTPCheck{Port: port},
		&HTTPCheck{Port: port, KeepAlive: true},
		&HTTPCheck{Port: silent},
		&TCPCheck{Port: banner, Expect: "220"},
		&TCPCheck{Port: silent, Expect: "220"},
		&TLSCheck{Port: silent},
		&DNSCheck{Port: dnsPort, Name: "www.example.test."},
		&ExecCheck{Command: "true"},
		All(&TCPCheck{Port: banner}, &TCPCheck{Port: silent, Expect: "x"}),
	}
	settle := func() int {
		runtime.GC()
		return runtime.NumGoroutine()
	}
	before := settle()
	for range 5 {
		for _, c := range checks {
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			_ = c.Check(ctx, target)
			cancel()
		}
	}
	// Keep-alive connections are meant to stay open: close them.
	checks[1].(*HTTPCheck).client.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for {
		after := settle()
		if after <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before the checks, %d after:\n%s", before, after, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
