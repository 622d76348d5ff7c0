package check

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
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
	checks := []failover.Checker{
		&HTTP{Port: port},
		&HTTP{Port: port, KeepAlive: true},
		&HTTP{Port: silent},
		&TCP{Port: banner, Expect: "220"},
		&TCP{Port: silent, Expect: "220"},
		&TLS{Port: silent},
		&DNS{Port: dnsPort, Name: "www.example.test."},
		&Exec{Command: "true"},
		failover.All(&TCP{Port: banner}, &TCP{Port: silent, Expect: "x"}),
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
	checks[1].(*HTTP).Close()
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
