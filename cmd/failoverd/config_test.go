package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
)

const goodYAML = `
zones:
  - name: example.test.
    providers:
      - type: rfc2136
        server: 127.0.0.1:53
        key_name: k
        secret_env: FAILOVERD_TEST_SECRET
    records:
      - name: www
        type: A
        endpoints:
          - {value: 192.0.2.10}
          - {value: 192.0.2.20, priority: 1}
        check: {type: http, path: /healthz}
        policy: {interval: 5s, failover_ttl: 30s}
`

// loadString parses, builds and validates a configuration given as text.
func loadString(t *testing.T, text string) error {
	t.Helper()
	file := filepath.Join(t.TempDir(), "failover.yaml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := load(context.Background(), file, true)
	return err
}

func TestGoodConfig(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	if err := loadString(t, goodYAML); err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../../examples/failoverd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("CLOUDFLARE_API_TOKEN", "token")
	t.Setenv("FAILOVERD_TOKEN", "operator")
	t.Setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/XXX/YYY/ZZZ")
	if err := loadString(t, string(example)); err != nil {
		t.Fatalf("examples/failoverd.yaml: %v", err)
	}
}

// Typical mistakes, each reported with its line, column and field path,
// all at once.
func TestConfigErrors(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	for _, tc := range []struct {
		name    string
		replace [2]string
		want    []string
	}{
		{"bad IPv4", [2]string{"{value: 192.0.2.10}", "{value: 10.0.0.300}"}, []string{`:13:21: zones[0].records[0].endpoints[0].value: "10.0.0.300" is not an IP address`}},
		{"unknown key", [2]string{"check: {type: http, path: /healthz}", "check: {type: http, pathh: /healthz}"}, []string{":15:29: zones[0].records[0].check.pathh: unknown field"}},
		{"bad duration", [2]string{"interval: 5s", "interval: 5 seconds"}, []string{`:16:28: zones[0].records[0].policy.interval: "5 seconds" is not a duration`}},
		{"unset secret", [2]string{"FAILOVERD_TEST_SECRET", "FAILOVERD_NOT_SET"}, []string{":8:21: zones[0].providers[0].secret_env: environment variable FAILOVERD_NOT_SET is empty or unset"}},
		{"fully qualified record name", [2]string{"name: www", "name: www.example.test."}, []string{":10:15: zones[0].records[0].name: must be relative"}},
		{"zone without dot", [2]string{"name: example.test.", "name: example.test"}, []string{":3:11: zones[0].name: zone name must be fully qualified"}},
		{"failover TTL above TTL", [2]string{"failover_ttl: 30s", "failover_ttl: 2m"}, []string{"zones[0].records[0].policy.failover_ttl: 2m0s is more than TTL 1m0s"}},
		{"wrong type", [2]string{"priority: 1}", "priority: high}"}, []string{`:14:43: zones[0].records[0].endpoints[1].priority: "high" is not a whole number`}},
		{"unknown check type", [2]string{"type: http", "type: htp"}, []string{`:15:23: zones[0].records[0].check.type: unknown check type "htp"; want dns, exec, grpc, http, https`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(goodYAML, tc.replace[0], tc.replace[1], 1)
			err := loadString(t, text)
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Fatalf("got %v, want it to contain %q", err, w)
				}
			}
		})
	}
	// Several mistakes: all of them at once.
	text := strings.Replace(strings.Replace(goodYAML, "{value: 192.0.2.10}", "{value: nope}", 1), "pathh", "x", 1)
	text = strings.Replace(text, "type: A", "type: A\n        bogus: 1", 1)
	err := loadString(t, text)
	if err == nil || strings.Count(err.Error(), "failover.yaml:") < 1 || !strings.Contains(err.Error(), "bogus: unknown field") {
		t.Fatalf("got %v, want every problem", err)
	}
}

func TestCompositeAndGRPCChecks(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	composite := strings.Replace(goodYAML, "check: {type: http, path: /healthz}",
		"check: {type: at_least, need: 2, checks: [{type: http}, {type: tcp, port: 25, expect: 220}, {type: grpc, port: 50051, service: api}]}", 1)
	if err := loadString(t, composite); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(composite, "need: 2", "need: 5", 1)
	bad = strings.Replace(bad, "{type: tcp, port: 25, expect: 220}", "{type: tcp}", 1)
	err := loadString(t, bad)
	for _, want := range []string{"check.need: 5: want 1 to 3", "check.checks[1].port: missing"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want %q", err, want)
		}
	}
}

var positioned = regexp.MustCompile(`^f\.yaml:[0-9]+:[0-9]+: `)

// Whatever the file holds, loading it never panics, and every problem
// names the file, line and column.
func FuzzConfig(f *testing.F) {
	f.Add(goodYAML)
	f.Add("zones: [{name: x, records: [{endpoints: [{value: 1}]}]}]")
	f.Add("zones: {a: b}\n")
	f.Add("- 1\n- 2")
	f.Add("checks: {web: {type: http}}\ndefaults: {policy: {ttl: 60s}, check: web}\nzones: [{name: x., records: [{check: web}]}]")
	f.Add("zones:\n\t- name: x\n")
	f.Add("a: &x 1\nb: *x\n")
	f.Add("a: 1\n---\nb: 2\n")
	f.Add("webhooks: [~, {url: \"https://h:x/y\", url_env: A, max_retries: -1}, {url_file: /nonexistent}]\n")
	f.Add("checks: {a: {type: grpc, port: 1, tls: {expiry_window: -1h}}, b: a, c: {type: all, checks: [b, a]}}\ndefaults: {check: c}\n" + goodYAML)
	f.Fuzz(func(t *testing.T, text string) {
		_, err := parse(context.Background(), "f.yaml", []byte(text), false)
		for _, e := range unjoin(err) {
			if !positioned.MatchString(e.Error()) && !strings.HasPrefix(e.Error(), "f.yaml: and more problems") {
				t.Fatalf("error without FILE:LINE:COL: %v", e)
			}
		}
	})
}

// Each setting the daemon reads is checked at `check`, with its position:
// a check or a provider accepts only its own fields, webhook URLs are
// http(s), formats, log words and ports are known.
func TestStrictSettings(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	for _, tc := range []struct {
		name, add, replace, with, want string
	}{
		{"field of another check", "", "check: {type: http, path: /healthz}", "check: {type: tcp, port: 80, path: /healthz}",
			":15:38: zones[0].records[0].check.path: unknown field; want one of expect, expect_matches, host"},
		{"field of another provider", "", "key_name: k", "key_name: k\n        api_token_env: X",
			":8:9: zones[0].providers[0].api_token_env: unknown field; want one of key_alg, key_name, max_message_size, secret_env, secret_file, server"},
		{"port 0", "", "path: /healthz}", "path: /healthz, port: 0}", ":15:51: zones[0].records[0].check.port: 0 is not a port (1-65535)"},
		{"port too large", "", "path: /healthz}", "path: /healthz, port: 70000}", "check.port: 70000 is not a port (1-65535)"},
		{"webhook not http", "webhooks: [{url: ftp://example.com/hook}]\n", "", "", `:1:18: webhooks[0].url: scheme "ftp", want http or https`},
		{"webhook without url", "webhooks: [{format: slack}]\n", "", "", ":1:12: webhooks[0].url: missing"},
		{"webhook format", "webhooks: [{url: https://example.com/, format: teams}]\n", "", "", `:1:48: webhooks[0].format: notify: unknown format "teams"`},
		{"webhook kind", "webhooks: [{url: https://example.com/, kinds: [failover]}]\n", "", "", `:1:48: webhooks[0].kinds[0]: "failover" is not an event kind`},
		{"listen without port", "status: {listen: localhost}\n", "", "", `:1:18: status.listen: "localhost" is not host:port`},
		{"listen port 0", "status: {listen: \":0\"}\n", "", "", `:1:18: status.listen: ":0": port 0 would be a free port picked at random, which nothing could find`},
		{"listen port", "status: {listen: \"127.0.0.1:99999\"}\n", "", "", `status.listen: "127.0.0.1:99999": port "99999" is not 1-65535`},
		{"log level", "log: {level: verbose}\n", "", "", `:1:14: log.level: "verbose" is not debug, info, warn or error`},
		{"log format", "log: {format: xml}\n", "", "", `:1:15: log.format: "xml" is not text or json`},
		{"token file missing", "status: {token_file: /nonexistent/token}\n", "", "", ":1:22: status.token_file: open /nonexistent/token: no such file or directory"},
		{"token env and file", "status: {token_env: A, token_file: /x}\n", "", "", ":1:36: status.token_file: give token_env or token_file, not both"},
		{"alias", "", "{value: 192.0.2.10}", "&a {value: 192.0.2.10}", "anchors and aliases are not supported"},
		{"duplicate key", "", "type: A", "type: A\n        type: AAAA", ":12:9: zones[0].records[0].type: given twice (first on line 11)"},
		{"tls version", "", "path: /healthz}", "path: /healthz, tls: {min_version: \"1.4\"}}", `check.tls.min_version: "1.4" is not a TLS version`},
		{"all_down", "", "interval: 5s", "interval: 5s, all_down: never", `policy.all_down: failover: unknown all-down action "never"`},
		{"expect_status", "", "path: /healthz}", "path: /healthz, expect_status: 200-99}", `check.expect_status: status codes "200-99"`},
		{"regexp", "", "path: /healthz}", "path: /healthz, body_matches: \"(\"}", "check.body_matches: error parsing regexp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := tc.add + goodYAML
			if tc.replace != "" {
				if !strings.Contains(text, tc.replace) {
					t.Fatalf("%q not in the test file", tc.replace)
				}
				text = strings.Replace(text, tc.replace, tc.with, 1)
			}
			err := loadString(t, text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// What YAML reports without a position (or with a line only) gets a line
// and column, and what failoverd reads is bounded.
func TestFileProblemsHavePositions(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"empty", "", "f.yaml:1:1: empty configuration"},
		{"comments only", "# nothing\n\n", "f.yaml:1:1: empty configuration"},
		{"tab", "zones:\n\t- name: x\n", "f.yaml:2:1: tab in indentation"},
		{"not UTF-8", "zones:\n  - name: ex\xffample\n", "f.yaml:2:13: byte 0xff is not UTF-8"},
		{"control character", "log: {level: in\x01fo}\n", "f.yaml:1:16: control character U+0001"},
		{"syntax", "zones:\n  - name: x\n   bad: [\n", "f.yaml:3:4: did not find expected '-' indicator"},
		{"syntax on a line", "a: b\n  c: d\n", "f.yaml:2:3: mapping values are not allowed in this context"},
		{"second document", "log: {level: info}\n---\nlog: {level: debug}\n", "f.yaml:3:1: a second YAML document"},
		{"not a mapping", "- 1\n- 2\n", "f.yaml:1:1: want a mapping of settings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(context.Background(), "f.yaml", []byte(tc.text), true)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v, want it to start with %q", err, tc.want)
			}
		})
	}
}

// A FIFO, a device and a huge file are refused at once; a huge value is
// not echoed back whole.
func TestHostileFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "keys.yaml")
	var b strings.Builder
	for i := 0; b.Len() < 10<<20; i++ {
		fmt.Fprintf(&b, "k%d: 1\n", i)
	}
	os.WriteFile(keys, []byte(b.String()), 0o600)
	name := filepath.Join(dir, "name.yaml")
	os.WriteFile(name, []byte("zones:\n  - name: "+strings.Repeat("x", 2<<20-100)+"\n    bogus: 1\n"), 0o600)
	for _, tc := range []struct {
		file, want string
	}{
		{fifo, "not a regular file"},
		{"/dev/zero", "not a regular file"},
		{dir, "not a regular file"},
		{keys, "larger than 2097152 bytes"},
		{name, "unknown field"},
	} {
		done := make(chan error, 1)
		go func() {
			_, err := load(context.Background(), tc.file, true)
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: got %.300v, want %q", tc.file, err, tc.want)
			}
			if err != nil && len(err.Error()) > 64<<10 {
				t.Errorf("%s: the error is %d bytes, want it bounded", tc.file, len(err.Error()))
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: load still blocked after 20s", tc.file)
		}
	}
}

// Named checks are shared: every record naming one holds the same
// checker, so the engine checks each endpoint once for all of them.
// Defaults apply under each record's own settings.
func TestNamedChecksAndDefaults(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	text := `
checks:
  web: {type: http, path: /healthz}
  both: {type: all, checks: [web, {type: tcp, port: 25}]}
defaults:
  policy: {interval: 5s, ttl: 120s, all_down: fallback, fallback: [192.0.2.99]}
  check: web
zones:
  - name: example.test.
    providers: [{type: rfc2136, server: "127.0.0.1:53", key_name: k, secret_env: FAILOVERD_TEST_SECRET}]
    records:
      - {name: a, type: A, endpoints: [{value: 192.0.2.1}], check: web}
      - {name: b, type: A, endpoints: [{value: 192.0.2.1}], check: web, policy: {ttl: 300s}}
      - {name: c, type: A, endpoints: [{value: 192.0.2.1}]}
      - {name: d, type: A, endpoints: [{value: 192.0.2.1}], check: both}
      - {name: e, type: A, endpoints: [{value: 192.0.2.1}], check: {type: http, path: /healthz}}
`
	lc, err := parse(context.Background(), "f.yaml", []byte(text), true)
	if err != nil {
		t.Fatal(err)
	}
	recs := lc.Zones[0].Records
	web := lc.Checks["web"]
	for i, want := range []failover.Checker{web, web, web, lc.Checks["both"]} {
		if recs[i].Check != want {
			t.Errorf("record %s: check %p, want the named one %p", recs[i].Name, recs[i].Check, want)
		}
	}
	if recs[4].Check == web {
		t.Errorf("record e: an inline check is its own, got the named one")
	}
	for i, want := range []time.Duration{120 * time.Second, 300 * time.Second, 120 * time.Second} {
		if p := recs[i].Policy; p.TTL != want || p.Interval != 5*time.Second || !slices.Equal(p.Fallback, []string{"192.0.2.99"}) {
			t.Errorf("record %s: policy %+v, want TTL %v over the defaults", recs[i].Name, p, want)
		}
	}
	recs[0].Policy.Fallback[0] = "changed"
	if recs[1].Policy.Fallback[0] != "192.0.2.99" {
		t.Errorf("records share the defaults' fallback slice")
	}

	// A problem in a default is placed where the default is written.
	bad := strings.Replace(text, "ttl: 120s", "ttl: 120s, failover_ttl: 10m", 1)
	_, err = parse(context.Background(), "f.yaml", []byte(bad), true)
	if want := "f.yaml:6:51: defaults.policy.failover_ttl: 10m0s is more than TTL 5m0s (record b A in zone example.test.)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
	// An unknown name says which exist.
	bad = strings.Replace(text, "check: both", "check: bogus", 1)
	_, err = parse(context.Background(), "f.yaml", []byte(bad), true)
	if want := `f.yaml:15:68: zones[0].records[3].check: no check named "bogus" under checks: (both, web)`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}

// A reload keeps the health of records whose configuration is the same,
// including the named checks and defaults they use.
func TestUnchanged(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	parseText := func(text string) *loaded {
		lc, err := parse(context.Background(), "f.yaml", []byte(text), true)
		if err != nil {
			t.Fatal(err)
		}
		return lc
	}
	base := parseText(goodYAML)
	www := failover.RecordID{Zone: "example.test.", Name: "www", Type: "A"}
	for _, tc := range []struct {
		name, from, to string
		want           bool
	}{
		{"same", "", "", true},
		{"comment and layout", "records:", "records: # the records", true},
		{"policy", "interval: 5s", "interval: 6s", false},
		{"provider", "server: 127.0.0.1:53", "server: 127.0.0.1:54", false},
		{"defaults", "zones:", "defaults: {policy: {ttl: 90s}}\nzones:", false},
	} {
		after := parseText(strings.Replace(goodYAML, tc.from, tc.to, 1))
		if got := unchanged(base, after)(www); got != tc.want {
			t.Errorf("%s: unchanged = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// `failoverd check` works in CI: a secret that is not set is a warning,
// unless -strict; `run` never starts without it.
func TestCheckWithoutSecrets(t *testing.T) {
	file := filepath.Join(t.TempDir(), "failover.yaml")
	os.WriteFile(file, []byte(strings.Replace(goodYAML, "zones:", "status: {token_file: /nonexistent/token}\nzones:", 1)), 0o600)
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"check", "-c", file}, 0, "ok: 1 zones", "warning: zones[0].providers[0].secret_env: environment variable FAILOVERD_TEST_SECRET is empty or unset"},
		{[]string{"check", "-c", file}, 0, "ok: 1 zones", "warning: status.token_file: open /nonexistent/token"},
		{[]string{"check", "-strict", "-c", file}, 1, "", "zones[0].providers[0].secret_env: environment variable FAILOVERD_TEST_SECRET is empty or unset"},
		{[]string{"run", "-c", file}, 1, "", "status.token_file: open /nonexistent/token"},
	} {
		var stdout, stderr strings.Builder
		code := run(tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String(), tc.out) || !strings.Contains(stderr.String(), tc.err) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d, %q, %q", tc.args, code, stdout.String(), stderr.String(), tc.code, tc.out, tc.err)
		}
	}
}

// Every problem comes back at once: an unknown key does not hide what the
// library finds, while what the library would say of a value decoding
// already refused (a record whose name is not a name) is left out.
func TestEveryProblemAtOnce(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	text := strings.Replace(attackBase, "{value: 192.0.2.1}", "{value: 0.0.0.0}", 1) +
		"      - {name: mail, type: A, endpoints: [{value: 192.0.2.2}], check: {type: tcp, port: 25}, bogus: 1}\n" +
		"      - {name: [x], type: A, endpoints: [{value: 192.0.2.3}], check: {type: tcp, port: 25}}\n"
	_, err := parse(context.Background(), "f.yaml", []byte(text), true)
	want := []string{
		"f.yaml:6:50: zones[0].records[0].endpoints[0].value: 0.0.0.0 is the unspecified address",
		"f.yaml:7:94: zones[0].records[1].bogus: unknown field",
		"f.yaml:8:16: zones[0].records[2].name: want a single value, not a list",
	}
	if err == nil {
		t.Fatalf("got no error, want %q", want)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("got %v, want it to contain %q", err, w)
		}
	}
}
