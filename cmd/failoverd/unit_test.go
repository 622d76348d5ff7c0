package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSystemdUnit: examples/failoverd.service passes systemd-analyze
// verify (with its binary path pointing at a build), and its commands are
// failoverd's.
func TestSystemdUnit(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	unit, err := os.ReadFile("../../examples/failoverd.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ExecStart=/usr/local/bin/failoverd run -c ", "ExecStartPre=/usr/local/bin/failoverd check -strict -c ", "ExecReload=/bin/kill -HUP $MAINPID"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit has no %q", want)
		}
	}
	path := filepath.Join(t.TempDir(), "failoverd.service")
	os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/failoverd", binary(t))), 0o644)
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestUnitReadsItsConfig follows the install lines of
// examples/failoverd.service (the user and group failoverd standing for a
// free UID and GID) and runs the unit's ExecStartPre as that user: the
// configuration they install must be readable by the service, and the
// unit must run as the user they create.
func TestUnitReadsItsConfig(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run as another UID")
	}
	unit, err := os.ReadFile("../../examples/failoverd.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nUser=failoverd\n", "\nGroup=failoverd\n", "useradd --system --user-group"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit has no %q", strings.TrimSpace(want))
		}
	}
	if strings.Contains(string(unit), "DynamicUser=yes") {
		t.Errorf("the unit has DynamicUser=yes: its UID cannot read /etc/failoverd")
	}
	const id = "61934" // the user failoverd and its group
	root, err := os.MkdirTemp("", "unit")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	os.Chmod(root, 0o755)
	bin := filepath.Join(root, "failoverd")
	data, err := os.ReadFile(binary(t))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(bin, data, 0o755)
	os.WriteFile(filepath.Join(root, "failover.yaml"), []byte(`zones:
  - name: example.test.
    providers: [{type: rfc2136, server: "127.0.0.1:53", key_name: k., key_alg: hmac-sha256, secret_env: FAILOVERD_TSIG}]
    records:
      - {name: www, type: A, endpoints: [{value: 192.0.2.1}], check: {type: tcp, port: 80}}
`), 0o600)
	os.Mkdir(filepath.Join(root, "etc"), 0o755)
	var ran int
	for line := range strings.Lines(string(unit)) {
		cmd, ok := strings.CutPrefix(strings.TrimSpace(line), "#   install ")
		if !ok || !strings.Contains(cmd, "/etc/failoverd") || strings.Contains(cmd, "/dev/null") {
			continue
		}
		args := strings.Fields(strings.ReplaceAll(strings.ReplaceAll(cmd, "-g failoverd", "-g "+id), "/etc/", root+"/etc/"))
		c := exec.Command("install", args...)
		c.Dir = root
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("install %q: %v %s", args, err, out)
		}
		ran++
	}
	if ran != 2 {
		t.Fatalf("ran %d install lines for /etc/failoverd, want 2 (the directory and the file)", ran)
	}
	cmd := exec.Command(bin, "check", "-c", filepath.Join(root, "etc", "failoverd", "failover.yaml"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 61934, Gid: 61934}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("installed as examples/failoverd.service says, the unit's ExecStartPre as its user: %v\n%s\nwant the file readable by the service", err, out)
	}
}
