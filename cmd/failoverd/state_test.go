package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/provider/memory"
)

func TestStateFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if s, err := readState(path); err != nil || len(s.Overrides) != 0 {
		t.Fatalf("a state file that does not exist: %+v, %v; want no state, no error", s, err)
	}
	until := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	want := operatorState{Version: stateVersion,
		Overrides: []savedOverride{{savedRecord{"example.test.", "www", "A"}, "192.0.2.10", failover.ForceDown, until}},
		Failbacks: []savedRecord{{"example.test.", "api", "AAAA"}}}
	for range 2 { // the second write replaces the first
		if err := writeState(path, want); err != nil {
			t.Fatal(err)
		}
	}
	got, err := readState(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Overrides) != 1 || got.Overrides[0] != want.Overrides[0] || len(got.Failbacks) != 1 || got.Failbacks[0] != want.Failbacks[0] {
		t.Errorf("read back %+v, want %+v", got, want)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory after two writes holds %d files, want the state file alone", len(entries))
	}
	for _, tc := range []struct{ content, want string }{
		{"{", "move it away"},
		{`{"version": 1, "extra": true}`, `unknown field "extra"`},
		{`{"version": 2}`, "version 2, want 1"},
	} {
		os.WriteFile(path, []byte(tc.content), 0o600)
		if _, err := readState(path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("state file %q: got %v, want %q", tc.content, err, tc.want)
		}
	}
}

// TestRestoreState: each saved override is set again, left alone when
// carried over, or ended (expired, record gone, endpoint gone) with an
// event saying why; a pending failback is requested again.
func TestRestoreState(t *testing.T) {
	p := &memory.Provider{}
	p.AddZone("example.test.")
	m, err := failover.New(failover.Config{Zones: []failover.Zone{{Name: "example.test.", Providers: []failover.Provider{p}, Records: []failover.Record{{
		Name: "www", Type: "A", Endpoints: []failover.Endpoint{{Value: "192.0.2.10"}, {Value: "192.0.2.11"}, {Value: "192.0.2.20", Priority: 1}},
		Check: failover.CheckerFunc(func(context.Context, string) error { return nil }),
	}}}}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	www := savedRecord{"EXAMPLE.test.", "www", "a"} // names in any case
	if err := m.SetOverride(www.id(), "192.0.2.11", failover.ForceUp, time.Hour); err != nil {
		t.Fatal(err)
	}
	carriedUntil := m.Status().Zones[0].Records[0].Endpoints[1].OverrideUntil
	s := operatorState{Overrides: []savedOverride{
		{www, "192.0.2.10", failover.ForceDown, now.Add(30 * time.Minute)},
		{www, "192.0.2.11", failover.ForceUp, carriedUntil},
		{www, "192.0.2.20", failover.ForceDown, now.Add(-time.Second)},
		{www, "192.0.2.99", failover.ForceDown, time.Time{}},
		{savedRecord{"example.test.", "gone", "A"}, "192.0.2.10", failover.ForceDown, time.Time{}},
	}, Failbacks: []savedRecord{www}}
	set, ended, problems := restoreState(m, s, now)
	if len(problems) != 0 {
		t.Errorf("problems: %v", problems)
	}
	if len(set) != 1 || !set[endpointKey{"example.test.", "www", "A", "192.0.2.10"}] {
		t.Errorf("set: %v, want 192.0.2.10 alone (192.0.2.11 was carried over)", set)
	}
	var reasons []string
	for _, e := range ended {
		reasons = append(reasons, e.Endpoint+" "+e.Reason)
		if e.Kind != failover.EventOverrideEnded {
			t.Errorf("ended: kind %v, want override-ended", e.Kind)
		}
	}
	want := []string{
		"192.0.2.20 expired while failoverd was not running",
		"192.0.2.99 the endpoint is no longer in the record's configuration",
		"192.0.2.10 the record is no longer in the configuration",
	}
	if strings.Join(reasons, "\n") != strings.Join(want, "\n") {
		t.Errorf("ended:\n%s\nwant:\n%s", strings.Join(reasons, "\n"), strings.Join(want, "\n"))
	}
	r := m.Status().Zones[0].Records[0]
	if e := r.Endpoints[0]; e.Override != failover.ForceDown || e.OverrideUntil.Sub(now.Add(30*time.Minute)).Abs() > time.Second {
		t.Errorf("192.0.2.10: %v until %v, want force-down for 30m", e.Override, e.OverrideUntil)
	}
	if !r.FailbackRequested {
		t.Error("the pending failback was not requested again")
	}
	if got := captureState(m.Status()); len(got.Overrides) != 2 || len(got.Failbacks) != 1 {
		t.Errorf("captured after the restore: %+v, want 2 overrides and the failback", got)
	}
}

// TestStateFileReadsWhatItWrites: 6,000 overrides (2,000 records of 3
// endpoints forced up during a checker outage, about 1.2 MB) written to
// the state file are read back at the next start; the 1 MiB bound of
// secrets refused them, and failoverd did not start at all.
func TestStateFileReadsWhatItWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s := operatorState{Version: stateVersion, Failbacks: []savedRecord{}}
	until := time.Now().Add(time.Hour)
	for r := range 2000 {
		for e := range 3 {
			s.Overrides = append(s.Overrides, savedOverride{savedRecord{"example.com.", fmt.Sprintf("app%04d", r), "A"},
				fmt.Sprintf("192.0.2.%d", e+1), failover.ForceUp, until})
		}
	}
	if err := writeState(path, s); err != nil {
		t.Fatalf("writeState: %v", err)
	}
	got, err := readState(path)
	if err != nil || len(got.Overrides) != len(s.Overrides) {
		st, _ := os.Stat(path)
		t.Errorf("state file of %d overrides (%d bytes) that writeState wrote: readState gives %d overrides, %v; want it read back",
			len(s.Overrides), st.Size(), len(got.Overrides), err)
	}
}
