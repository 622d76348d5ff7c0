package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Exec runs a command to check an endpoint, following the Nagios
// plugin convention: exit status 0 is healthy, 1 (warning) is healthy unless
// WarningFails is set, 2 (critical), 3 (unknown) and any other status are
// unhealthy, with the last line of the command's output as the reason. The
// target is passed as the last argument and in the FAILOVER_TARGET
// environment variable. At the check's deadline the command is killed with
// its whole process group, so nothing it started outlives the check.
// Command is required. An Exec is safe for concurrent use.
type Exec struct {
	// Command is the program to run: a path, or a name looked up in PATH.
	Command string
	// Args come before the target on the command line.
	Args []string
	// Env holds extra "KEY=value" variables, added to the Manager's own
	// environment.
	Env []string
	// Dir is the working directory. Empty means the Manager's.
	Dir string
	// WarningFails makes exit status 1 unhealthy.
	WarningFails bool
}

// maxExecOutput is how much of the end of a command's output is kept.
const maxExecOutput = 4 << 10

// Check runs the command for target and reports why it is not healthy.
func (c *Exec) Check(ctx context.Context, target string) error {
	if c.Command == "" {
		return errors.New("exec check: no Command")
	}
	cmd := exec.CommandContext(ctx, c.Command, append(append([]string(nil), c.Args...), target)...)
	cmd.Env = append(append(os.Environ(), c.Env...), "FAILOVER_TARGET="+target)
	cmd.Dir = c.Dir
	var out tail
	cmd.Stdout, cmd.Stderr = &out, &out
	killGroupOnCancel(cmd)
	cmd.WaitDelay = 100 * time.Millisecond // then the output pipes are closed even if something holds them

	name := filepath.Base(c.Command)
	start := time.Now()
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("exec %s %s: killed at the deadline after %v: %w%s", name, target, time.Since(start).Round(time.Millisecond), ctx.Err(), out.reason())
	case errors.As(err, &exit) && exit.ExitCode() == 1 && !c.WarningFails:
		return nil
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return fmt.Errorf("exec %s %s: exit status %d (%s)%s", name, target, exit.ExitCode(), nagiosState(exit.ExitCode()), out.reason())
	}
	return fmt.Errorf("exec %s %s: %w%s", name, target, err, out.reason())
}

func nagiosState(code int) string {
	switch code {
	case 1:
		return "warning"
	case 2:
		return "critical"
	}
	return "unknown"
}

// tail keeps the last maxExecOutput bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - maxExecOutput; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

// reason returns ": " and the last non-empty line of the output, or "".
func (t *tail) reason() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := bytes.Split(bytes.TrimSpace(t.buf), []byte("\n"))
	last := strings.TrimSpace(string(lines[len(lines)-1]))
	if last == "" {
		return ""
	}
	return ": " + last
}
