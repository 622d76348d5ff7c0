//go:build failing

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/notify"
)

// attackBase is a valid file whose secret is set by each test.
const attackBase = `
zones:
  - name: example.test.
    providers: [{type: rfc2136, server: "127.0.0.1:53", key_name: k, secret_env: FAILOVERD_TEST_SECRET}]
    records:
      - {name: www, type: A, endpoints: [{value: 192.0.2.1}], check: {type: tcp, port: 80}}
`

// A webhook that `failoverd run` refuses (notify.New) must already be
// refused by `failoverd check -strict`, with its position: otherwise CI
// passes a file that production cannot start.
func TestCheckRefusesWebhooksThatRunRefuses(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	for _, tc := range []struct{ name, webhooks string }{
		{"negative max_retries", "webhooks:\n  - {url: \"https://hooks.example/x\", max_retries: -1}\n"},
		{"null entry", "webhooks: [~]\n"},
		{"empty entry", "webhooks:\n  -\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lc, err := parse(context.Background(), "f.yaml", []byte(attackBase+tc.webhooks), true)
			if err != nil {
				return // refused at check: good
			}
			_, runErr := notify.New(lc.Webhooks...)
			t.Errorf("check: got no error; want one at f.yaml:LINE:COL (run refuses the file: %v)", runErr)
		})
	}
}

// The webhook URL is a secret (notify redacts it from every error); a
// mistyped one must not be echoed in failoverd's error, which `check`
// prints in CI logs and a rejected reload writes to the daemon's log.
func TestWebhookURLNotEchoedInConfigErrors(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	for _, url := range []string{
		"hooks.slack.com/services/T000/B000/SUPERSECRETTOKEN",           // scheme forgotten
		" https://hooks.slack.com/services/T000/B000/SUPERSECRETTOKEN",  // pasted with a space
		"https://hooks.slack.com:SUPERSECRETTOKEN/services/T000/B000/x", // a colon for a slash
	} {
		text := attackBase + fmt.Sprintf("webhooks:\n  - url: %q\n", url)
		_, err := parse(context.Background(), "f.yaml", []byte(text), true)
		if err == nil {
			t.Errorf("url %q: got no error, want one", url)
			continue
		}
		if strings.Contains(err.Error(), "SUPERSECRETTOKEN") {
			t.Errorf("url %q: got %q, want an error that does not echo the URL's secret part", url, err)
		}
	}
}

// Secrets never go in the file (examples/failoverd.yaml says so), but a
// Slack or Discord webhook URL is a credential: it must be readable from
// url_env or url_file like every other secret.
func TestWebhookURLFromEnvOrFile(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	t.Setenv("FAILOVERD_TEST_HOOK", "https://hooks.slack.com/services/T000/B000/XXXX")
	lc, err := parse(context.Background(), "f.yaml", []byte(attackBase+"webhooks:\n  - {url_env: FAILOVERD_TEST_HOOK, format: slack}\n"), true)
	if err != nil {
		t.Fatalf("got %v, want url_env accepted", err)
	}
	if got := lc.Webhooks[0].URL; got != "https://hooks.slack.com/services/T000/B000/XXXX" {
		t.Fatalf("got URL %q, want the environment variable's value", got)
	}
}

// An exec check's env entry usually carries a credential; a malformed one
// must not be echoed whole in the error.
func TestExecEnvValueNotEchoedInConfigErrors(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	text := strings.Replace(attackBase, "check: {type: tcp, port: 80}", `check: {type: exec, command: /bin/true, env: ["API_TOKEN hunter2-secret-value"]}`, 1)
	_, err := parse(context.Background(), "f.yaml", []byte(text), true)
	if err == nil {
		t.Fatal("got no error, want env[0] refused")
	}
	if strings.Contains(err.Error(), "hunter2-secret-value") {
		t.Errorf("got %q, want the value left out of the message", err)
	}
}

// The rfc2136 provider's usual mistakes pass `check -strict` today and
// fail every read and write once running: a server without its port, an
// algorithm that does not exist, a secret that is not base64.
func TestCheckFindsRFC2136Mistakes(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	for _, tc := range []struct{ name, from, to, want string }{
		{"server without port", `server: "127.0.0.1:53"`, `server: "192.0.2.53"`, "server"},
		{"unknown key_alg", `key_name: k,`, `key_name: k, key_alg: hmac-sha257,`, "key_alg"},
		{"secret not base64", `c2VjcmV0`, `hunter2!not-base64`, "secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := attackBase
			if tc.from == "c2VjcmV0" {
				t.Setenv("FAILOVERD_TEST_SECRET", tc.to)
			} else {
				text = strings.Replace(text, tc.from, tc.to, 1)
			}
			_, err := parse(context.Background(), "f.yaml", []byte(text), true)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error at zones[0].providers[0] naming %s", err, tc.want)
			}
		})
	}
}

// loadWithin loads text and fails the test when it takes longer than d
// (source.go: "one of 2 MiB ... loads within a second even when it is all
// mistakes"; the bound here is ten times that).
func loadWithin(t *testing.T, text string, d time.Duration) {
	t.Helper()
	if len(text) > maxConfigBytes {
		t.Fatalf("test file is %d bytes, over the %d limit", len(text), maxConfigBytes)
	}
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	done := make(chan struct{})
	go func() {
		parse(context.Background(), "f.yaml", []byte(text), true)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("a %d-byte file: still loading after %v, want it within %v", len(text), d, d)
	}
}

// Named checks: each one scans every position recorded so far, so a file
// of many is quadratic (2 MiB of them: about 7 minutes).
func TestManyNamedChecksLoadWithinBound(t *testing.T) {
	var b strings.Builder
	b.WriteString("checks:\n")
	for i := 0; b.Len() < 2<<20-4096; i++ {
		fmt.Fprintf(&b, "  c%d: {type: tcp, port: 80}\n", i)
	}
	b.WriteString(strings.Replace(attackBase, "check: {type: tcp, port: 80}", "check: c1", 1))
	loadWithin(t, b.String(), 10*time.Second)
}

// Library errors: each is placed by scanning every record, so a file of
// many records that all break one rule is quadratic (2 MiB: about 30 s).
func TestManyLibraryErrorsLoadWithinBound(t *testing.T) {
	var b strings.Builder
	b.WriteString(strings.SplitAfter(attackBase, "records:\n")[0])
	for i := 0; b.Len() < 2<<20-100; i++ {
		fmt.Fprintf(&b, "      - {name: r%d, type: A, endpoints: [{value: 0.0.0.0}], check: {type: tcp, port: 80}}\n", i)
	}
	loadWithin(t, b.String(), 10*time.Second)
}

// parse says "every problem comes back at once", but a file with one
// unknown key hides every problem the library finds: the operator fixes
// the typo and only then learns of the next mistake.
func TestEveryProblemAtOnce(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	text := strings.Replace(attackBase, "{value: 192.0.2.1}", "{value: 0.0.0.0}", 1) +
		"      - {name: mail, type: A, endpoints: [{value: 192.0.2.2}], check: {type: tcp, port: 25}, bogus: 1}\n"
	_, err := parse(context.Background(), "f.yaml", []byte(text), true)
	for _, want := range []string{"records[1].bogus: unknown field", "records[0].endpoints[0].value: 0.0.0.0 is the unspecified address"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want it to contain %q", err, want)
		}
	}
}

// A record that names check "web" did not change when only check "db"
// did: it must keep its health on reload (main.go: "records whose
// configuration did not change keep their health state"). Today editing
// any named check resets every record of the file.
func TestReloadKeepsRecordsThatDoNotUseTheChangedCheck(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	text := func(dbPort int) string {
		return fmt.Sprintf(`
checks:
  web: {type: tcp, port: 80}
  db: {type: tcp, port: %d}
zones:
  - name: example.test.
    providers: [{type: rfc2136, server: "127.0.0.1:53", key_name: k, secret_env: FAILOVERD_TEST_SECRET}]
    records:
      - {name: www, type: A, endpoints: [{value: 192.0.2.1}], check: web}
      - {name: db, type: A, endpoints: [{value: 192.0.2.2}], check: db}
`, dbPort)
	}
	before, err := parse(context.Background(), "f.yaml", []byte(text(5432)), true)
	if err != nil {
		t.Fatal(err)
	}
	after, err := parse(context.Background(), "f.yaml", []byte(text(5433)), true)
	if err != nil {
		t.Fatal(err)
	}
	keep := unchanged(before, after)
	if got := keep(failover.RecordID{Zone: "example.test.", Name: "www", Type: "A"}); !got {
		t.Errorf("www (check web, untouched): unchanged = %v, want true", got)
	}
	if got := keep(failover.RecordID{Zone: "example.test.", Name: "db", Type: "A"}); got {
		t.Errorf("db (check db, changed): unchanged = %v, want false", got)
	}
}

// The gRPC check's tls: has the other checks' fields, and the same
// rules: a negative expiry_window is refused for https and must be for
// grpc too (today it is silently dropped: no expiry check at all).
func TestGRPCNegativeExpiryWindowRefused(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	for _, c := range []string{
		"{type: https, tls: {expiry_window: -1h}}",
		"{type: grpc, port: 50051, tls: {expiry_window: -1h}}",
	} {
		text := strings.Replace(attackBase, "{type: tcp, port: 80}", c, 1)
		_, err := parse(context.Background(), "f.yaml", []byte(text), true)
		if err == nil || !strings.Contains(err.Error(), "xpiry") {
			t.Errorf("check %s: got %v, want expiry_window refused", c, err)
		}
	}
}

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
