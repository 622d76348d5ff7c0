package main

import (
	"testing"
)

// The README's first command must keep working: the whole scenario runs,
// shows a failover and a failback, and ends without error.
func TestDemoScenario(t *testing.T) {
	if err := run(t.Context(), 0, false); err != nil {
		t.Fatal(err)
	}
}
