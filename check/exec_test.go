package check

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "check.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExecCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		check  *Exec
		errHas string
	}{
		{"exit 0", &Exec{Command: script(t, `test "$1" = 192.0.2.10 && test "$FAILOVER_TARGET" = 192.0.2.10`)}, ""},
		{"args before the target", &Exec{Command: script(t, `test "$1" = -p && test "$2" = 80 && test "$3" = 192.0.2.10`), Args: []string{"-p", "80"}}, ""},
		{"extra environment", &Exec{Command: script(t, `test "$MODE" = strict`), Env: []string{"MODE=strict"}}, ""},
		{"warning is healthy", &Exec{Command: script(t, "echo 'WARNING - slow'; exit 1")}, ""},
		{"warning fails when told", &Exec{Command: script(t, "echo 'WARNING - slow'; exit 1"), WarningFails: true}, "exit status 1 (warning): WARNING - slow"},
		{"critical with the last line", &Exec{Command: script(t, "echo starting; echo 'CRITICAL - connection refused' >&2; exit 2")}, "exit status 2 (critical): CRITICAL - connection refused"},
		{"unknown", &Exec{Command: script(t, "exit 3")}, "exit status 3 (unknown)"},
		{"missing command", &Exec{Command: "/nonexistent/check"}, "no such file"},
		{"no command", &Exec{}, "Command: required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check.Check(t.Context(), "192.0.2.10")
			if tc.errHas == "" && err != nil || tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)) {
				t.Fatalf("got %v, want error containing %q", err, tc.errHas)
			}
		})
	}
}

func TestExecCheckKillsProcessGroupAtDeadline(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	// The script starts a grandchild that would outlive it, then hangs.
	c := &Exec{Command: script(t, "sleep 300 & echo $! > "+pidFile+"; echo waiting; wait")}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	err := c.Check(ctx, "192.0.2.10")
	if err == nil || !strings.Contains(err.Error(), "killed at the deadline") || !strings.Contains(err.Error(), ": waiting") {
		t.Fatalf("got %v, want a kill at the deadline with the last output line", err)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscan(strings.TrimSpace(string(data)), &pid); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil { // still there (or a zombie being reaped by init)
		if isZombie(pid) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d still running after the check returned", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// isZombie reports whether pid has exited but not been reaped yet.
func isZombie(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true // gone
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] == "Z"
}

// TestExecHelperProcess is not a test: it is the command the exec tests
// run (the test binary itself), which writes its environment, one variable
// a line, to the file named by FAILOVER_EXEC_HELPER.
func TestExecHelperProcess(t *testing.T) {
	out := os.Getenv("FAILOVER_EXEC_HELPER")
	if out == "" {
		t.Skip("run by the exec tests")
	}
	env := os.Environ()
	slices.Sort(env)
	if err := os.WriteFile(out, []byte(strings.Join(env, "\n")), 0o600); err != nil {
		os.Exit(3)
	}
	os.Exit(0)
}

// The command gets PATH, FAILOVER_TARGET, the check's Env and the
// variables named in Passthrough, and nothing else of the Manager's
// environment: a secret there never reaches a plugin.
func TestExecEnvironment(t *testing.T) {
	t.Setenv("FAILOVER_TEST_SECRET", "hunter2")
	t.Setenv("FAILOVER_TEST_SHARED", "shared value")
	t.Setenv("PATH", "/usr/local/bin:/usr/bin:/bin")
	for _, tc := range []struct {
		name        string
		env         []string
		passthrough []string
		want        []string // besides FAILOVER_EXEC_HELPER
	}{
		{"nothing listed", nil, nil, []string{"FAILOVER_TARGET=192.0.2.10", "PATH=/usr/local/bin:/usr/bin:/bin"}},
		{"Env", []string{"MODE=strict", "EMPTY="}, nil, []string{"EMPTY=", "FAILOVER_TARGET=192.0.2.10", "MODE=strict", "PATH=/usr/local/bin:/usr/bin:/bin"}},
		{"Env sets PATH", []string{"PATH=/opt/plugins"}, nil, []string{"FAILOVER_TARGET=192.0.2.10", "PATH=/opt/plugins"}},
		{"Passthrough", nil, []string{"FAILOVER_TEST_SHARED", "FAILOVER_TEST_UNSET"}, []string{"FAILOVER_TARGET=192.0.2.10", "FAILOVER_TEST_SHARED=shared value", "PATH=/usr/local/bin:/usr/bin:/bin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "env")
			c := &Exec{
				Command:     os.Args[0],
				Args:        []string{"-test.run=^TestExecHelperProcess$"},
				Env:         append([]string{"FAILOVER_EXEC_HELPER=" + out}, tc.env...),
				Passthrough: tc.passthrough,
			}
			if err := c.Check(t.Context(), "192.0.2.10"); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			got := slices.DeleteFunc(strings.Split(string(data), "\n"), func(v string) bool { return strings.HasPrefix(v, "FAILOVER_EXEC_HELPER=") })
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got environment %q, want %q", got, tc.want)
			}
			if strings.Contains(string(data), "hunter2") {
				t.Fatalf("the secret reached the command: %q", data)
			}
		})
	}
}

// A target that starts with "-" would be read as an option by the
// command: it is refused, and the command never runs.
func TestExecRefusesOptionLikeTarget(t *testing.T) {
	ran := filepath.Join(t.TempDir(), "ran")
	c := &Exec{Command: script(t, "touch "+ran)}
	err := c.Check(t.Context(), "-oProxyCommand=x")
	if err == nil || !strings.Contains(err.Error(), `target "-oProxyCommand=x" starts with "-"`) {
		t.Fatalf("got %v, want the target refused", err)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Fatal("the command ran")
	}
}
