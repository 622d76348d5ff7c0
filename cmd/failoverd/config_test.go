package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

// Whatever the file holds, loading it never panics, and every problem
// names the file.
func FuzzConfig(f *testing.F) {
	f.Add(goodYAML)
	f.Add("zones: [{name: x, records: [{endpoints: [{value: 1}]}]}]")
	f.Add("zones: {a: b}\n")
	f.Add("- 1\n- 2")
	f.Fuzz(func(t *testing.T, text string) {
		_, err := parse(context.Background(), "f.yaml", []byte(text), false)
		for _, e := range unjoin(err) {
			if !strings.HasPrefix(e.Error(), "f.yaml:") {
				t.Fatalf("error without the file name: %v", e)
			}
		}
	})
}
