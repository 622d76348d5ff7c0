package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
)

// TestStateFileSymlinkKept: a state_file that is a symlink (to
// a persistent volume, to a file managed elsewhere) is replaced by a
// regular file at the first write: the rename goes over the link, and the
// file it pointed to keeps the old state for ever after.
func TestStateFileSymlinkKept(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "persistent-state.json")
	link := filepath.Join(dir, "state.json")
	if err := writeState(target, operatorState{Version: stateVersion, Overrides: []savedOverride{}, Failbacks: []savedRecord{}}); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	drained := operatorState{Version: stateVersion, Failbacks: []savedRecord{},
		Overrides: []savedOverride{{savedRecord{"example.test.", "www", "A"}, "192.0.2.10", failover.ForceDown, time.Time{}}}}
	if err := writeState(link, drained); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Lstat(link)
	s, err := readState(target)
	if fi.Mode()&os.ModeSymlink == 0 || err != nil || len(s.Overrides) != 1 {
		t.Errorf("state_file a symlink to %s, after a drain: the link is %v (symlink: %v), its target holds %d overrides (%v); want the link kept and the drain in its target",
			target, fi.Mode().Type(), fi.Mode()&os.ModeSymlink != 0, len(s.Overrides), err)
	}
}
