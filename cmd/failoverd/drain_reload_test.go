package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dnsfailover/failover"
)

// A drain set by an operator survives a reload that changes the record's
// TTL (issue 13, must fix: "carried by (zone, name, type, endpoint value)
// across reloads even when the record's other settings changed ... never
// dropped in silence"). Today the reload drops it silently.
func TestDrainSurvivesReloadThatChangesTheRecord(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "failoverd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	statusAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	config := func(ttl string) string {
		return fmt.Sprintf(`
status: {listen: %q, token_env: FAILOVERD_TOKEN}
zones:
  - name: example.test.
    providers: [{type: rfc2136, server: "127.0.0.1:1", key_name: k, secret_env: FAILOVERD_TSIG}]
    records:
      - name: www
        type: A
        endpoints: [{value: 127.0.0.2}, {value: 127.0.0.3, priority: 1}]
        check: {type: tcp, port: 1}
        policy: {interval: 1s, ttl: %s}
`, statusAddr, ttl)
	}
	file := filepath.Join(t.TempDir(), "failover.yaml")
	os.WriteFile(file, []byte(config("60s")), 0o600)
	var logs syncBuffer
	cmd := exec.Command(bin, "run", "-c", file)
	cmd.Env = append(os.Environ(), "FAILOVERD_TSIG=c2VjcmV0", "FAILOVERD_TOKEN=t0ken")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("failoverd log:\n%s", logs.String())
		}
	}()
	override := func() string {
		resp, err := http.Get("http://" + statusAddr + "/status")
		if err != nil {
			return "unreachable"
		}
		defer resp.Body.Close()
		var st failover.Status
		if json.NewDecoder(resp.Body).Decode(&st) != nil || len(st.Zones) == 0 {
			return "unreadable"
		}
		return st.Zones[0].Records[0].Endpoints[0].Override.String()
	}
	eventually(t, "status served", func() bool { return override() == "none" })
	req, _ := http.NewRequest("POST", "http://"+statusAddr+"/override",
		strings.NewReader(`{"zone":"example.test.","name":"www","type":"A","value":"127.0.0.2","override":"force-down"}`))
	req.Header.Set("Authorization", "Bearer t0ken")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("drain: %v %v", resp, err)
	}
	if got := override(); got != "force-down" {
		t.Fatalf("after the drain: override %q, want force-down", got)
	}
	os.WriteFile(file, []byte(config("120s")), 0o600)
	cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "reloaded", func() bool { return strings.Count(logs.String(), "msg=running") == 2 })
	if got := override(); got != "force-down" {
		t.Errorf("after a reload that changed the TTL: override of 127.0.0.2 is %q, want force-down kept", got)
	}
}
