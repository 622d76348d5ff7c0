package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/httpapi"
	"github.com/dnsfailover/failover/provider/memory"
)

// runCLI runs failoverd in the test's process.
func runCLI(args ...string) (stdout, stderr string, code int) {
	var out, errs bytes.Buffer
	code = run(args, &out, &errs)
	return out.String(), errs.String(), code
}

func TestHelpAndVersion(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		code       int
		out, err   string // substrings of stdout and stderr
		errMissing string // not in stderr
	}{
		{[]string{"--help"}, 0, "failback", "", ""},
		{[]string{"help"}, 0, "  drain     force an endpoint down", "", ""},
		{nil, 2, "", "usage: failoverd COMMAND", ""},
		{[]string{"nope"}, 2, "", `unknown command "nope"`, ""},
		{[]string{"check", "-h"}, 0, "", "-strict", "-dry-run"},
		{[]string{"run", "-h"}, 0, "", "-dry-run", "-strict"},
		{[]string{"drain", "-h"}, 0, "", "-for", "-unhealthy"},
		{[]string{"version"}, 0, "failoverd ", "", ""},
		{[]string{"drain", "www.example.test"}, 2, "", "want 3 arguments, got 1", ""},
	} {
		out, errs, code := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errs, tc.err) || (tc.errMissing != "" && strings.Contains(errs, tc.errMissing)) {
			t.Errorf("failoverd %q: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q and without %q",
				tc.args, code, out, errs, tc.code, tc.out, tc.err, tc.errMissing)
		}
	}
	out, _, _ := runCLI("--help")
	for _, c := range commands {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("--help does not list %s:\n%s", c.name, out)
		}
	}
	if out, _, _ := runCLI("version"); !strings.Contains(out, runtime.Version()) {
		t.Errorf("version: %q, want the Go version", out)
	}
}

// TestClientCommands: status, drain, undrain and failback against the
// status API of a Manager, with the token from the environment or a file.
func TestClientCommands(t *testing.T) {
	p := &memory.Provider{}
	p.AddZone("example.test.")
	m, err := failover.New(failover.Config{Zones: []failover.Zone{{Name: "example.test.", Providers: []failover.Provider{p}, Records: []failover.Record{{
		Name: "www", Type: "A", Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.20", Priority: 1}},
		Check: failover.CheckerFunc(func(context.Context, string) error { return nil }),
	}}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(m, httpapi.Options{Token: "t0ken"}))
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("t0ken\n"), 0o600)
	override := func() (failover.Override, time.Time) {
		e := m.Status().Zones[0].Records[0].Endpoints[0]
		return e.Override, e.OverrideUntil
	}
	addr := "-addr=" + srv.URL

	t.Setenv("FAILOVERD_TOKEN", "t0ken")
	if out, errs, code := runCLI("drain", addr, "-for", "30m", "www.example.test", "A", "192.0.2.10"); code != 0 || !strings.Contains(out, "force-down for 30m0s") {
		t.Fatalf("drain: exit %d, %q %q", code, out, errs)
	}
	if o, until := override(); o != failover.ForceDown || until.IsZero() {
		t.Fatalf("after drain -for 30m: %v until %v, want force-down with an expiry", o, until)
	}
	if out, errs, code := runCLI("status", addr); code != 0 || !strings.Contains(out, "192.0.2.10") || !strings.Contains(out, "force-down until") {
		t.Fatalf("status: exit %d, %q %q; want the drain shown", code, out, errs)
	}
	if out, errs, code := runCLI("failback", addr, "WWW.example.test.", "a"); code != 0 || !m.Status().Zones[0].Records[0].FailbackRequested {
		t.Fatalf("failback: exit %d, %q %q; want the failback requested", code, out, errs)
	}

	t.Setenv("FAILOVERD_TOKEN", "")
	if _, errs, code := runCLI("undrain", addr, "www.example.test", "A", "192.0.2.10"); code != 1 || !strings.Contains(errs, "no operator token") {
		t.Errorf("undrain without a token: exit %d, %q; want exit 1 saying so", code, errs)
	}
	if _, errs, code := runCLI("undrain", addr, "-token-file", tokenFile, "www.example.test", "A", "192.0.2.10"); code != 0 {
		t.Fatalf("undrain -token-file: exit %d, %q", code, errs)
	}
	if o, _ := override(); o != failover.NoOverride {
		t.Fatalf("after undrain: %v, want none", o)
	}

	t.Setenv("FAILOVERD_TOKEN", "wrong")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"drain", addr, "www.example.test", "A", "192.0.2.10"}, "403 Forbidden: wrong token"},
		{[]string{"drain", addr, "www.other.test", "A", "192.0.2.10"}, "www.other.test is in none of the zones failoverd runs: example.test."},
		{[]string{"status", "-addr=http://127.0.0.1:1"}, "connection refused"},
		{[]string{"status", "-addr=ftp://x"}, "is not an http:// or https:// URL"},
	} {
		if _, errs, code := runCLI(tc.args...); code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("failoverd %q: exit %d, %q; want exit 1 with %q", tc.args, code, errs, tc.want)
		}
	}
	t.Setenv("FAILOVERD_TOKEN", "t0ken")
	if _, errs, code := runCLI("drain", addr, "www.example.test", "A", "192.0.2.99"); code != 1 || !strings.Contains(errs, "404 Not Found") {
		t.Errorf("drain of an unknown endpoint: exit %d, %q; want a 404", code, errs)
	}
}
