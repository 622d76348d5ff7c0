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

	"github.com/dnsfailover/failover/internal/dnsname"
)

// Exec runs a command to check an endpoint, following the Nagios
// plugin convention: exit status 0 is healthy, 1 (warning) is healthy unless
// WarningFails is set, 2 (critical), 3 (unknown) and any other status are
// unhealthy, with the last line of the command's output as the reason. The
// target is passed as the last argument and in the FAILOVER_TARGET
// environment variable; a target that starts with "-" (which the command
// would read as an option) is refused without running the command. At the
// check's deadline the command is killed with its whole process group, so
// nothing it started outlives the check.
//
// The command does not inherit the Manager's environment, which may hold
// credentials (a provider token, a TSIG secret): it gets PATH, Env,
// the variables named in Passthrough, and FAILOVER_TARGET, nothing else.
//
// Command is required. An Exec is safe for concurrent use.
type Exec struct {
	// Command is the program to run: a path, or a name looked up in the
	// Manager's PATH.
	Command string
	// Args come before the target on the command line.
	Args []string
	// Env holds "KEY=value" variables for the command. A PATH here
	// replaces the Manager's; FAILOVER_TARGET cannot be set.
	Env []string
	// Passthrough names variables of the Manager's environment that the
	// command gets as they are (such as HOME, LANG or a credential the
	// plugin needs); one that is not set is left out.
	Passthrough []string
	// Dir is the working directory. Empty means the Manager's.
	Dir string
	// WarningFails makes exit status 1 unhealthy.
	WarningFails bool
}

// Validate reports a missing Command, Env entries that are not
// KEY=value or set FAILOVER_TARGET, Passthrough entries that are not
// variable names, and NUL bytes, which no command line can hold. Its
// errors never show an Env entry's value, which may be a credential.
func (c *Exec) Validate() error {
	p := problems{kind: "exec"}
	if c.Command == "" {
		p.add("Command", "required")
	}
	if strings.ContainsRune(c.Command, 0) {
		p.add("Command", "contains a NUL byte")
	}
	for i, a := range c.Args {
		if strings.ContainsRune(a, 0) {
			p.add(fmt.Sprintf("Args[%d]", i), "contains a NUL byte")
		}
	}
	for i, kv := range c.Env {
		field := fmt.Sprintf("Env[%d]", i)
		key, _, ok := strings.Cut(kv, "=")
		switch {
		case !ok:
			// Not echoed: an entry usually carries a credential, and
			// without its "=" no part of it is known to be the name.
			p.add(field, "not KEY=value: no \"=\" in its %d characters (not shown: it may hold a secret)", len(kv))
		case key == "FAILOVER_TARGET":
			p.add(field, "FAILOVER_TARGET is set by the check")
		case !validEnvName(key):
			p.add(field, "%q is not a variable name", dnsname.Quote(key))
		case strings.ContainsRune(kv, 0):
			p.add(field, "contains a NUL byte")
		}
	}
	for i, name := range c.Passthrough {
		if !validEnvName(name) {
			p.add(fmt.Sprintf("Passthrough[%d]", i), "%q is not a variable name", dnsname.Quote(name))
		}
	}
	return p.err()
}

// validEnvName reports whether name can name an environment variable.
func validEnvName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "=\x00")
}

// environ returns the command's environment for target.
func (c *Exec) environ(target string) []string {
	env := make([]string, 0, 2+len(c.Passthrough)+len(c.Env))
	if path, ok := os.LookupEnv("PATH"); ok {
		env = append(env, "PATH="+path)
	}
	for _, name := range c.Passthrough {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	env = append(env, c.Env...) // later entries win: Env overrides the ones above
	return append(env, "FAILOVER_TARGET="+target)
}

// maxExecOutput is how much of the end of a command's output is kept.
const maxExecOutput = 4 << 10

// Check runs the command for target and reports why it is not healthy.
func (c *Exec) Check(ctx context.Context, target string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if strings.HasPrefix(target, "-") {
		return fmt.Errorf("exec %s: target %q starts with \"-\": refused, the command would read it as an option", filepath.Base(c.Command), target)
	}
	cmd := exec.CommandContext(ctx, c.Command, append(append([]string(nil), c.Args...), target)...)
	cmd.Env = c.environ(target)
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
