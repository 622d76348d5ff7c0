package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
)

// TestDrainNotSavedIsReported: a drain the state file cannot hold stays
// in force, but the API answers 507 naming the file and the cause, and
// the client exits non-zero, so that the operator knows it will not
// survive a restart.
func TestDrainNotSavedIsReported(t *testing.T) {
	for _, tc := range []struct {
		name    string
		gone    bool // the state file's directory removed after start
		code    int
		inErr   []string
		inState bool
	}{
		{"saved", false, 0, nil, true},
		{"not saved", true, 1, []string{"507", "NOT saved", "will not survive a restart", "state.json", "no such file"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, h := apiFixture(t)
			dir := filepath.Join(t.TempDir(), "state")
			os.Mkdir(dir, 0o755)
			path := filepath.Join(dir, "state.json")
			saver := &stateSaver{path: path, m: m, log: slog.New(slog.DiscardHandler)}
			srv := httptest.NewServer(persisted(h, saver))
			defer srv.Close()
			if tc.gone {
				os.RemoveAll(dir)
			}
			t.Setenv("FAILOVERD_TOKEN", "t0ken")
			out, errs, code := runCLI("drain", "-addr="+srv.URL, "www.example.test", "A", "192.0.2.10")
			if code != tc.code {
				t.Errorf("drain: exit %d (%q %q), want %d", code, out, errs, tc.code)
			}
			for _, want := range tc.inErr {
				if !strings.Contains(errs, want) {
					t.Errorf("drain: stderr %q, want it to say %q", errs, want)
				}
			}
			if e := m.Status().Zones[0].Records[0].Endpoints[0]; e.Override != failover.ForceDown {
				t.Errorf("after the drain: override %v, want force-down in memory whether saved or not", e.Override)
			}
			s, err := readState(path)
			if got := err == nil && len(s.Overrides) == 1; got != tc.inState {
				t.Errorf("state file after the drain: %d overrides (%v), want saved %v", len(s.Overrides), err, tc.inState)
			}
		})
	}
}

// drainConfig is a failoverd configuration of www.example.test. A on
// bind with a state file and the status API at addr.
func drainConfig(bind *servertest.BIND, port int, stateFile, addr string) string {
	return fmt.Sprintf("state_file: %q\nstatus: {listen: %q, token_env: FAILOVERD_TOKEN}\n", stateFile, addr) +
		wwwZone(bind, "", bothEndpoints, port, "ttl: 60s")
}

// TestDrainOnFullDisk: with the state file's filesystem full, `failoverd
// drain` exits non-zero naming the state file; the drain is in force
// until the restart, which does not have it.
func TestDrainOnFullDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	os.Mkdir(dir, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	bind := servertest.StartBIND(t, "example.test.", "www 60 IN A 127.0.0.2")
	port := backends(t, nil)
	stateFile := filepath.Join(dir, "state.json")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	file := filepath.Join(t.TempDir(), "failover.yaml")
	os.WriteFile(file, []byte(drainConfig(bind, port, stateFile, addr)), 0o600)
	env := []string{"FAILOVERD_TSIG=" + bind.Key, "FAILOVERD_TOKEN=t0ken", "FAILOVERD_ADDR=http://" + addr}

	d := startDaemon(t, file, env...)
	eventually(t, "decided", decided(addr))
	exec.Command("dd", "if=/dev/zero", "of="+filepath.Join(dir, "fill"), "bs=4k").Run()
	out, code := cli(t, env, "drain", "www.example.test", "A", "127.0.0.2")
	if code == 0 || !strings.Contains(out, stateFile) || !strings.Contains(out, "no space left") {
		t.Errorf("drain with the state file's filesystem full: exit %d, %q; want non-zero naming %s and the cause", code, strings.TrimSpace(out), stateFile)
	}
	if e, _ := endpoint(getStatus(addr), "127.0.0.2"); e.Override != failover.ForceDown {
		t.Errorf("after the unsaved drain: override %v, want force-down (in force until the restart)", e.Override)
	}
	d.stop()
}
