package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
)

// TestOperatorStateSurvives runs failoverd as a process against BIND: a
// drain made with `failoverd drain` survives SIGTERM and a new start (same
// expiry), a reload that changes the record, and ends at its expiry; a
// drain that expired while failoverd was stopped, and one whose endpoint
// left the file, are logged and notified. Starts that change nothing send
// no webhook.
func TestOperatorStateSurvives(t *testing.T) {
	bind := servertest.StartBIND(t, "example.test.", "www 60 IN A 127.0.0.2")
	port := backends(t, nil)
	hooks, hookURL := startWebhook(t)
	dir := t.TempDir()
	stateFile := filepath.Join(dir, "state.json")
	statusAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	config := func(ttl string, endpoints string) string {
		return fmt.Sprintf("state_file: %q\nstatus: {listen: %q, token_env: FAILOVERD_TOKEN}\nwebhooks: [{url: %q}]\n", stateFile, statusAddr, hookURL) +
			wwwZone(bind, "name: bind-primary, ", endpoints, port, "ttl: "+ttl+", failback_delay: 100ms")
	}
	both := bothEndpoints
	file := filepath.Join(dir, "failover.yaml")
	write := func(text string) {
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(config("60s", both))
	env := []string{"FAILOVERD_TSIG=" + bind.Key, "FAILOVERD_TOKEN=t0ken", "FAILOVERD_ADDR=http://" + statusAddr}
	drained := func() (failover.EndpointStatus, bool) {
		e, ok := endpoint(getStatus(statusAddr), "127.0.0.2")
		return e, ok && e.Override == failover.ForceDown
	}
	answers := func(want ...string) func() bool {
		return func() bool { return slices.Equal(answerA(bind.Addr, "www.example.test."), want) }
	}

	d := startDaemon(t, file, env...)
	eventually(t, "the primary decided", decided(statusAddr))
	if !logHas(d.logs.String(), "starting failoverd", "version=", "dry_run=false") {
		t.Errorf("the start-up log does not give the version and dry_run")
	}
	if st := getStatus(statusAddr); st.Zones[0].Providers[0].Name != "bind-primary" {
		t.Errorf("provider name: got %q, want bind-primary (name: in the file)", st.Zones[0].Providers[0].Name)
	}

	out, code := cli(t, env, "drain", "-for", "1h", "www.example.test", "A", "127.0.0.2")
	if code != 0 || !strings.Contains(out, "force-down for 1h0m0s") {
		t.Fatalf("failoverd drain: exit %d, output %q", code, out)
	}
	eventually(t, "BIND answers the backup", answers("127.0.0.3"))
	first, _ := drained()
	if data, err := os.ReadFile(stateFile); err != nil || !strings.Contains(string(data), `"override": "force-down"`) {
		t.Fatalf("state file after the drain: %q, %v; want the override", data, err)
	}
	d.stop()
	if !logHas(d.logs.String(), "msg=stopped") || logHas(d.logs.String(), "decisions not written") {
		t.Errorf("a shutdown with every decision written: want stopped, no unwritten decision")
	}

	// Started again: still drained, with the same expiry.
	before := len(hooks.kinds())
	d = startDaemon(t, file, env...)
	eventually(t, "drained after the restart", func() bool { _, ok := drained(); return ok })
	again, _ := drained()
	if diff := again.OverrideUntil.Sub(first.OverrideUntil).Abs(); diff > time.Second {
		t.Errorf("expiry after the restart: %v, want %v", again.OverrideUntil, first.OverrideUntil)
	}
	eventually(t, "decided after the restart", decided(statusAddr))
	if got := answerA(bind.Addr, "www.example.test."); !slices.Equal(got, []string{"127.0.0.3"}) {
		t.Errorf("BIND after the restart: %v, want the backup", got)
	}
	eventually(t, "override restored logged", func() bool { return logHas(d.logs.String(), "override restored", "127.0.0.2") })

	// A reload that changes the record keeps the drain.
	write(config("120s", both))
	d.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "reloaded", func() bool { return logHas(d.logs.String(), "reloaded", `changed="www.example.test. A"`, "kept=0") })
	eventually(t, "decided after the reload", decided(statusAddr))
	if e, ok := drained(); !ok || e.OverrideUntil.Sub(again.OverrideUntil).Abs() > time.Second {
		t.Fatalf("after a reload changing the record: %+v, want drained until %v", e, again.OverrideUntil)
	}
	if got := hooks.kinds()[before:]; len(got) != 0 {
		t.Errorf("webhooks for a restart and a reload that changed nothing DNS publishes: %q, want none", got)
	}

	// A short drain survives a restart and ends at its expiry.
	out, code = cli(t, env, "drain", "-for", "6s", "www.example.test.", "a", "127.0.0.2")
	if code != 0 {
		t.Fatalf("failoverd drain -for 6s: exit %d, output %q", code, out)
	}
	d.stop()
	d = startDaemon(t, file, env...)
	eventually(t, "drained after the second restart", func() bool { _, ok := drained(); return ok })
	eventually(t, "the drain expired and the primary is back", answers("127.0.0.2"))
	if _, ok := drained(); ok {
		t.Error("after the expiry: still drained")
	}

	// A drain that expires while failoverd is stopped is told at start;
	// one whose endpoint leaves the file is told at the reload.
	if out, code = cli(t, env, "drain", "-for", "1s", "www.example.test", "A", "127.0.0.2"); code != 0 {
		t.Fatalf("failoverd drain -for 1s: exit %d, output %q", code, out)
	}
	eventually(t, "drained for 1s", func() bool { _, ok := drained(); return ok })
	short, _ := drained()
	d.stop()
	eventually(t, "the drain expired while failoverd is stopped", func() bool { return time.Now().After(short.OverrideUntil) })
	d = startDaemon(t, file, env...)
	eventually(t, "expiry told", func() bool {
		return slices.Contains(hooks.kinds(), "override-ended: expired while failoverd was not running")
	})
	if out, code = cli(t, env, "drain", "www.example.test", "A", "127.0.0.2"); code != 0 || !strings.Contains(out, "until cleared") {
		t.Fatalf("failoverd drain: exit %d, output %q", code, out)
	}
	write(config("120s", "[{value: 127.0.0.3}]"))
	d.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "the lost override told", func() bool {
		return slices.Contains(hooks.kinds(), "override-ended: the endpoint is no longer in the record's configuration") &&
			logHas(d.logs.String(), "override ended", "no longer")
	})
	if data, _ := os.ReadFile(stateFile); strings.Contains(string(data), "127.0.0.2") {
		t.Errorf("state file still holds the override that no longer applies: %s", data)
	}
	d.stop()
}
