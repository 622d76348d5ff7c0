package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/dnsfailover/failover"
)

// A record keeps its health on reload unless something it uses changed:
// editing a named check, or a default check, resets only the records
// that use it (directly, through the default check, or through another
// named check).
func TestReloadKeepsRecordsThatDoNotUseTheChangedCheck(t *testing.T) {
	t.Setenv("FAILOVERD_TEST_SECRET", "c2VjcmV0")
	const base = `
checks:
  web: {type: tcp, port: 80}
  db: {type: tcp, port: 5432}
  both: {type: all, checks: [web, {type: tcp, port: 25}]}
defaults:
  check: db
  policy: {interval: 5s}
zones:
  - name: example.test.
    providers: [{type: rfc2136, server: "127.0.0.1:53", key_name: k, secret_env: FAILOVERD_TEST_SECRET}]
    records:
      - {name: www, type: A, endpoints: [{value: 192.0.2.1}], check: web}
      - {name: db, type: A, endpoints: [{value: 192.0.2.2}], check: db}
      - {name: def, type: A, endpoints: [{value: 192.0.2.3}]}
      - {name: both, type: A, endpoints: [{value: 192.0.2.4}], check: both}
      - {name: own, type: A, endpoints: [{value: 192.0.2.5}], check: {type: tcp, port: 22}}
`
	before, err := parse(context.Background(), "f.yaml", []byte(base), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, from, to string
		changed        []string // the records whose configuration changed
	}{
		{"nothing", "", "", nil},
		{"check db", "port: 5432", "port: 5433", []string{"db", "def"}},
		{"check web, used by both", "port: 80", "port: 8080", []string{"www", "both"}},
		{"default check", "check: db\n  policy", "check: web\n  policy", []string{"def"}},
		{"default policy", "interval: 5s", "interval: 6s", []string{"www", "db", "def", "both", "own"}},
		{"a check nobody uses", "checks:\n", "checks:\n  spare: {type: tcp, port: 1}\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			after, err := parse(context.Background(), "f.yaml", []byte(strings.Replace(base, tc.from, tc.to, 1)), true)
			if err != nil {
				t.Fatal(err)
			}
			keep := unchanged(before, after)
			for _, name := range []string{"www", "db", "def", "both", "own"} {
				want := !slices.Contains(tc.changed, name)
				if got := keep(failover.RecordID{Zone: "example.test.", Name: name, Type: "A"}); got != want {
					t.Errorf("record %s: unchanged = %v, want %v", name, got, want)
				}
			}
		})
	}
}
