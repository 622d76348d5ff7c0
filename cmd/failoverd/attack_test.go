//go:build failing

package main

import (
	"encoding/json"
	"fmt"
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

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
	"github.com/dnsfailover/failover/notify"
)

// TestAttackStateFileSymlinkReplaced: a state_file that is a symlink (to
// a persistent volume, to a file managed elsewhere) is replaced by a
// regular file at the first write: the rename goes over the link, and the
// file it pointed to keeps the old state for ever after.
func TestAttackStateFileSymlinkReplaced(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "persistent-state.json")
	link := filepath.Join(dir, "state.json")
	if err := writeState(target, operatorState{Version: stateVersion, Overrides: []savedOverride{}, Failbacks: []savedRecord{}}); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	drained := operatorState{Version: stateVersion, Failbacks: []savedRecord{},
		Overrides: []savedOverride{{savedRecord{"example.test.", "www", "A"}, "192.0.2.10", failover.ForceDown, time.Time{}}}}
	if err := writeState(link, drained); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Lstat(link)
	s, err := readState(target)
	if fi.Mode()&os.ModeSymlink == 0 || err != nil || len(s.Overrides) != 1 {
		t.Errorf("state_file a symlink to %s, after a drain: the link is %v (symlink: %v), its target holds %d overrides (%v); want the link kept and the drain in its target",
			target, fi.Mode().Type(), fi.Mode()&os.ModeSymlink != 0, len(s.Overrides), err)
	}
}

// TestAttackDrainNegativeForIsForever: `failoverd drain -for -5m` (a typo,
// or a computed duration that went negative) drains the endpoint until
// someone undrains it, and says so only in passing; the API refuses
// "for": "0", the client should refuse a duration that is not positive.
func TestAttackDrainNegativeForIsForever(t *testing.T) {
	m, h := apiFixture(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	t.Setenv("FAILOVERD_TOKEN", "t0ken")
	out, errs, code := runCLI("drain", "-addr="+srv.URL, "-for", "-5m", "www.example.test", "A", "192.0.2.10")
	e := m.Status().Zones[0].Records[0].Endpoints[0]
	if code == 0 || e.Override != failover.NoOverride {
		t.Errorf("drain -for -5m: exit %d, %q %q, endpoint %v until %v; want exit 2 refusing the duration, no drain",
			code, out, errs, e.Override, e.OverrideUntil)
	}
}

// TestAttackClientGivesUpDuringReload: between two Managers (a reload,
// each `systemctl reload failoverd`) the API answers 503 with
// Retry-After: 1, and says "try again in a second". A script that runs
// `systemctl reload failoverd; failoverd drain …` (ExecReload only sends
// SIGHUP) lands in that window; the client fails at once instead of
// retrying within its -timeout.
func TestAttackClientGivesUpDuringReload(t *testing.T) {
	m, h := apiFixture(t)
	var reloading atomic.Int32
	reloading.Store(1) // the first request lands in the reload
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reloading.Add(-1) >= 0 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "starting or reloading: try again in a second", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	t.Setenv("FAILOVERD_TOKEN", "t0ken")
	out, errs, code := runCLI("drain", "-addr="+srv.URL, "-timeout", "10s", "www.example.test", "A", "192.0.2.10")
	e := m.Status().Zones[0].Records[0].Endpoints[0]
	if code != 0 || e.Override != failover.ForceDown {
		t.Errorf("drain during a reload (one 503 with Retry-After: 1): exit %d, %q %q, endpoint %v; want the drain taken after the reload",
			code, out, errs, e.Override)
	}
}

// TestAttackReloadRenotifiesProviderFailure: a provider that keeps
// failing is notified once, at its first failure. But every reload builds
// a new Notifier that has forgotten it, so each `systemctl reload` during
// an outage (or a SIGHUP from config management every few minutes) sends
// the same "provider failing" notice again, while the provider never
// recovered in between.
func TestAttackReloadRenotifiesProviderFailure(t *testing.T) {
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

// TestAttackReloadDiscardsUndeliveredNotifications: a reload cancels the
// Notifier of the old Manager with its queue and its retries. A failover
// whose webhook is briefly failing (a chat service's 500, a proxy
// restarting) and a `systemctl reload` in the next seconds: the
// notification is never delivered, and neither
// failover_notifications_failed_total nor _dropped_total counts it (a
// delivery cut by the cancelled context is not a failure).
func TestAttackReloadDiscardsUndeliveredNotifications(t *testing.T) {
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
		m := scrape(addr)
		counted := strings.Contains(m, "failover_notifications_failed_total{") || strings.Contains(m, "failover_notifications_dropped_total{")
		if n > 0 || counted {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("failover notified to a webhook that failed once, then a reload, webhook back: delivered %d within 10s, no failed or dropped notification in /metrics; want it delivered (or at least counted)", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
