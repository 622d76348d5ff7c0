package check

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
		{"no command", &Exec{}, "no Command"},
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
