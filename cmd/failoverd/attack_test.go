//go:build failing

package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
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
