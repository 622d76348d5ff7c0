package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dnsfailover/failover/internal/servertest"
	"github.com/dnsfailover/failover/notify"
)

// openFDs counts the descriptors process pid holds.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	return len(entries)
}

// scrape returns the text of addr's /metrics, or "" when it cannot.
func scrape(addr string) string {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestDaemonServesReloadsAndStops runs failoverd as a process against
// BIND: idle status clients are let go; a provider that fails for a
// while is notified once, then its recovery; a reload moves the status
// listener and switches the log to JSON, and /metrics says whether the
// last reload was taken; a stop with a decision BIND does not hold says
// so.
func TestDaemonServesReloadsAndStops(t *testing.T) {
	bind := servertest.StartBIND(t, "example.test.", "www 60 IN A 127.0.0.2")
	var primaryDown atomic.Bool
	port := backends(t, &primaryDown)
	hooks, hookURL := startWebhook(t)
	addrA := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	addrB := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	config := func(listen, log string) string {
		return fmt.Sprintf(`
status: {listen: %q, read_header_timeout: 1s, idle_timeout: 1s}
log: %s
webhooks: [{url: %q}]
reconcile_interval: 1s
retry_backoff: 50ms
max_retry_backoff: 200ms
`, listen, log, hookURL) + wwwZone(bind, "", bothEndpoints, port, "recover_after: 1, ttl: 60s, failback_delay: 100ms")
	}
	file := filepath.Join(t.TempDir(), "failover.yaml")
	os.WriteFile(file, []byte(config(addrA, "{format: text, level: info}")), 0o600)
	d := startDaemon(t, file, "FAILOVERD_TSIG="+bind.Key)
	eventually(t, "decided", decided(addrA))
	pid := d.cmd.Process.Pid

	// Idle clients: silent ones and kept-alive ones are let go.
	base := openFDs(t, pid)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 400 {
		c, err := net.Dial("tcp", addrA)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if i%2 == 0 {
			io.WriteString(c, "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
		}
	}
	eventually(t, "the server holds the connections", func() bool { return openFDs(t, pid) >= base+300 })
	eventually(t, "idle connections closed by the server", func() bool { return openFDs(t, pid) <= base+10 })

	// A provider failing for a while is notified once, then its recovery.
	bind.Stop(false)
	primaryDown.Store(true)
	eventually(t, "writes failing", func() bool { return strings.Count(d.logs.String(), "msg=provider-call-failed") >= 3 })
	eventually(t, "the failure notified", func() bool { return slices.Contains(hooks.kinds(), "provider-call-failed") })
	if got := count(hooks.kinds(), "provider-call-failed"); got != 1 {
		t.Errorf("webhooks for %d failed calls: %d provider-call-failed, want 1", strings.Count(d.logs.String(), "msg=provider-call-failed"), got)
	}
	bind.Start(t)
	eventually(t, "recovery notified", func() bool { return slices.Contains(hooks.kinds(), "provider-recovered") })
	eventually(t, "BIND answers the backup", func() bool { return slices.Equal(answerA(bind.Addr, "www.example.test."), []string{"127.0.0.3"}) })
	m := scrape(addrA)
	for _, want := range []string{"failover_config_last_reload_success 1", "failover_build_info{", "go_goroutines ", "process_open_fds ",
		`failover_checks_total{result="success",zone="example.test."}`, `failover_endpoint_up{endpoint="127.0.0.2",record="www",type="A",zone="example.test."} 0`} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics has no %q", want)
		}
	}

	// A reload moves the listener and switches the log to JSON.
	os.WriteFile(file, []byte(config(addrB, "{format: json, level: debug}")), 0o600)
	d.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "listening on the new address", func() bool { return strings.Contains(scrape(addrB), "failover_config_last_reload_success 1") })
	if _, err := net.Dial("tcp", addrA); err == nil {
		t.Errorf("the old address %s still accepts connections", addrA)
	}
	eventually(t, "the log in JSON", func() bool { return strings.Contains(d.logs.String(), `"msg":"running"`) })
	os.WriteFile(file, []byte("zones: ["), 0o600)
	d.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "a rejected reload in /metrics", func() bool { return strings.Contains(scrape(addrB), "failover_config_last_reload_success 0") })

	// Stopping with a decision BIND does not hold says so.
	bind.Stop(false)
	primaryDown.Store(false)
	eventually(t, "the failback decided and not written", func() bool {
		return strings.Contains(d.logs.String(), `"values":["127.0.0.2"]`) && strings.Count(d.logs.String(), `"msg":"provider-call-failed"`) >= 2
	})
	d.stop()
	if !strings.Contains(d.logs.String(), "stopped with decisions not written") {
		t.Error("the log does not say that a decision was not written")
	}
}

func count(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// TestReloadCancelsNoProviderFailure: a reload (or a stop) while a
// provider read is in flight cancels it; failoverd cancelled it, so it is
// no provider failure: no provider-call-failed event, log line, metric or
// webhook (a slow provider plus `systemctl reload` made a false alert).
// Here the provider is a DNS server that accepts the zone transfer and is
// slow to answer.
func TestReloadCancelsNoProviderFailure(t *testing.T) {
	slow, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	accepted := make(chan struct{}, 10)
	var conns []net.Conn // held open, never answered within the test
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := slow.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			select {
			case accepted <- struct{}{}:
			default:
			}
		}
	}()
	defer func() {
		slow.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	}()
	port := backends(t, nil)
	dir := t.TempDir()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	file := filepath.Join(dir, "failover.yaml")
	cfg := fmt.Sprintf("status: {listen: %q}\nprovider_timeout: 1m\n", addr) +
		wwwZone(&servertest.BIND{UpdateServer: servertest.UpdateServer{Addr: slow.Addr().String(), KeyName: "k.", KeyAlg: "hmac-sha256"}}, "", bothEndpoints, port, "ttl: 60s")
	os.WriteFile(file, []byte(cfg), 0o600)
	d := startDaemon(t, file, "FAILOVERD_TSIG=aDtxcMHCDBd79jEFVAFpf8l48xovTLPd2xJpXlbeUMs=")
	select {
	case <-accepted: // the start-up read of the zone is in flight
	case <-time.After(15 * time.Second):
		t.Fatal("failoverd did not read the zone")
	}
	d.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "reloaded", func() bool { return strings.Count(d.logs.String(), "msg=running") == 2 })
	m := scrape(addr)
	if strings.Contains(d.logs.String(), "msg=provider-call-failed") || strings.Contains(m, "failover_provider_failures_total{") {
		var failed []string
		for line := range strings.Lines(d.logs.String()) {
			if strings.Contains(line, "msg=provider-call-failed") {
				failed = append(failed, strings.TrimSpace(line))
			}
		}
		t.Errorf("a reload during a slow read of the zone: the log has %q; /metrics has provider failures: %v; want no provider failure (failoverd cancelled the call)",
			failed, strings.Contains(m, "failover_provider_failures_total{"))
	}
}

// TestReloadKeepsProviderFailureNotified: a provider that keeps
// failing is notified once, at its first failure, however many reloads
// happen during the outage (a Notifier per reload forgot it and sent the
// same notice at each `systemctl reload`).
func TestReloadKeepsProviderFailureNotified(t *testing.T) {
	bind := servertest.StartBIND(t, "example.test.", "www 60 IN A 127.0.0.2")
	port := backends(t, nil)
	hooks, hookURL := startWebhook(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	file := filepath.Join(t.TempDir(), "failover.yaml")
	config := fmt.Sprintf("status: {listen: %q}\nwebhooks: [{url: %q}]\nreconcile_interval: 1s\nretry_backoff: 50ms\nmax_retry_backoff: 200ms\n", addr, hookURL) +
		wwwZone(bind, "", bothEndpoints, port, "ttl: 60s")
	os.WriteFile(file, []byte(config), 0o600)
	d := startDaemon(t, file, "FAILOVERD_TSIG="+bind.Key)
	eventually(t, "decided", decided(addr))

	bind.Stop(false)
	eventually(t, "the failure notified", func() bool { return slices.Contains(hooks.kinds(), "provider-call-failed") })
	for i := range 3 {
		d.cmd.Process.Signal(syscall.SIGHUP)
		eventually(t, "reloaded", func() bool { return strings.Count(d.logs.String(), `msg="reloaded`) > i })
		eventually(t, "calls failing after the reload", func() bool {
			return strings.Count(d.logs.String(), "msg=provider-call-failed") > strings.Count(d.logs.String()[:strings.LastIndex(d.logs.String(), `msg="reloaded`)], "msg=provider-call-failed")
		})
	}
	kinds := hooks.kinds()
	if got := count(kinds, "provider-call-failed"); got != 1 || slices.Contains(kinds, "provider-recovered") {
		t.Errorf("one outage of BIND, 3 reloads during it, BIND never back: webhooks %q; want one provider-call-failed and no recovery", kinds)
	}
}

// TestReloadKeepsUndeliveredNotifications: a failover whose webhook is
// briefly failing (a chat service's 500) and a `systemctl reload` in the
// next seconds: the Notifier outlives the reload, and its retry delivers
// the notification once the webhook is back (a Notifier per Manager was
// cancelled with its queue and retries, silently).
func TestReloadKeepsUndeliveredNotifications(t *testing.T) {
	bind := servertest.StartBIND(t, "example.test.", "www 60 IN A 127.0.0.2")
	port := backends(t, nil)
	var failing atomic.Bool
	failing.Store(true)
	attempts := make(chan struct{}, 100)
	var mu sync.Mutex
	var delivered []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p notify.Payload
		json.NewDecoder(r.Body).Decode(&p)
		select {
		case attempts <- struct{}{}:
		default:
		}
		if failing.Load() {
			http.Error(w, "busy", http.StatusInternalServerError)
			return
		}
		mu.Lock()
		delivered = append(delivered, p.Kind)
		mu.Unlock()
	}))
	defer hook.Close()
	dir := t.TempDir()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	file := filepath.Join(dir, "failover.yaml")
	cfg := fmt.Sprintf("status: {listen: %q, token_env: FAILOVERD_TOKEN}\nwebhooks: [{url: %q, kinds: [record-decided]}]\n", addr, hook.URL) +
		wwwZone(bind, "", bothEndpoints, port, "ttl: 60s")
	os.WriteFile(file, []byte(cfg), 0o600)
	env := []string{"FAILOVERD_TSIG=" + bind.Key, "FAILOVERD_TOKEN=t0ken", "FAILOVERD_ADDR=http://" + addr}
	d := startDaemon(t, file, env...)
	eventually(t, "decided", decided(addr))
	if out, code := cli(t, env, "drain", "www.example.test", "A", "127.0.0.2"); code != 0 {
		t.Fatalf("drain: exit %d, %q", code, out)
	}
	select {
	case <-attempts: // the failover's notification, refused once
	case <-time.After(15 * time.Second):
		t.Fatal("no webhook attempt for the failover")
	}
	d.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "reloaded", func() bool { return strings.Count(d.logs.String(), "msg=running") == 2 })
	failing.Store(false) // the webhook is back, well within the retries (0.5 s, 1 s, 2 s)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(delivered)
		mu.Unlock()
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("failover notified to a webhook that failed once, then a reload, webhook back: delivered %d within 10s; want it delivered by a retry", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
