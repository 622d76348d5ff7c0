package main

import (
	"fmt"
	"strings"
	"testing"
)

// A large named check used by every record, and a large default check,
// must be placed, fingerprinted and validated once, not once per record.
// failoverd now does its part once; failover.New still validates a
// shared checker (here an all of ~20,000 checks) once per record that
// uses it, which is quadratic: 2 MiB takes about 4 s instead of 0.2 s.
// The fix belongs in the root package (validate each distinct checker
// value once).
// A large named check used by every record, and a large default check,
// are placed and fingerprinted once, not once per record: copying their
// positions into each record was quadratic.
func TestSharedChecksLoadWithinBound(t *testing.T) {
	loadScalesLinearly(t, func(limit int) string {
		var b strings.Builder
		b.WriteString("checks:\n  big: {type: all, checks: [\n")
		for b.Len() < limit/2 {
			b.WriteString("    {type: tcp, port: 80},\n")
		}
		b.WriteString("  ]}\ndefaults: {check: big}\n")
		b.WriteString(strings.SplitAfter(attackBase, "records:\n")[0])
		for i := 0; b.Len() < limit-100; i++ {
			fmt.Fprintf(&b, "      - {name: r%d, type: A, endpoints: [{value: 0.0.0.0}]%s}\n", i, []string{"", ", check: big"}[i%2])
		}
		return b.String()
	})
}
