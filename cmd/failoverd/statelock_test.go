package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
)

// TestStateFileLocked: a second failoverd on the state file of a running
// one refuses to start, naming the file and its lock, so that it cannot
// erase the first one's drains; a -dry-run one runs beside it and writes
// no state file of its own (a dry run writes nothing).
func TestStateFileLocked(t *testing.T) {
	bind := servertest.StartBIND(t, "example.test.", "www 60 IN A 127.0.0.2")
	port := backends(t, nil)
	dir := t.TempDir()
	stateFile := filepath.Join(dir, "state.json")
	addrA := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	addrB := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	fileA, fileB := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	os.WriteFile(fileA, []byte(drainConfig(bind, port, stateFile, addrA)), 0o600)
	os.WriteFile(fileB, []byte(drainConfig(bind, port, stateFile, addrB)), 0o600)
	env := []string{"FAILOVERD_TSIG=" + bind.Key, "FAILOVERD_TOKEN=t0ken"}

	a := startDaemon(t, fileA, env...)
	eventually(t, "A decided", decided(addrA))
	b := startDaemon(t, fileB, env...)
	select {
	case err := <-b.exited:
		for _, want := range []string{stateFile + " is in use by another failoverd", stateFile + ".lock is locked", "pid " + strconv.Itoa(a.cmd.Process.Pid)} {
			if err == nil || !strings.Contains(b.logs.String(), want) {
				t.Errorf("a second failoverd on %s: exit %v, log %q; want a failure saying %q", stateFile, err, b.logs.String(), want)
			}
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("a second failoverd on the state file of a running one still runs; want it refused")
	}

	before, err := os.ReadFile(stateFile)
	if err != nil {
		t.Fatal(err)
	}
	dry := startRun(t, []string{"-c", fileB, "-dry-run"}, env...)
	eventually(t, "the dry run decided", decided(addrB))
	if out, code := cli(t, env, "drain", "-addr=http://"+addrB, "www.example.test", "A", "127.0.0.2"); code != 0 {
		t.Fatalf("drain on the dry run: exit %d, %q", code, out)
	}
	if e, _ := endpoint(getStatus(addrB), "127.0.0.2"); e.Override != failover.ForceDown {
		t.Errorf("drain on the dry run: override %v, want force-down", e.Override)
	}
	dry.stop()
	if after, _ := os.ReadFile(stateFile); string(after) != string(before) {
		t.Errorf("a -dry-run failoverd drained and stopped: the state file went from %s to %s; want it untouched", before, after)
	}
	a.stop()
}
