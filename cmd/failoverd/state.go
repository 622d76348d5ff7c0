package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dnsfailover/failover"
)

// operatorState is what operators decided that the checks do not know:
// overrides with their expiry, and manual failbacks not yet taken. It is
// kept across reloads in memory and across restarts in the state file,
// and matched to the configuration by zone, record name, type and
// endpoint value, whatever else of the record changed.
type operatorState struct {
	Version   int             `json:"version"`
	Overrides []savedOverride `json:"overrides"`
	Failbacks []savedRecord   `json:"failbacks"`
}

// stateVersion is the state file's format.
const stateVersion = 1

// maxStateBytes bounds the state file, both written and read, so that
// whatever failoverd writes it reads back at its next start. The state
// holds at most an override per endpoint and a failback per record of
// the configuration: an override is about 200 bytes of JSON, and a
// configuration of maxConfigBytes (2 MiB) holds at most about 100,000
// endpoints written tersely, 20 MB of state. 64 MiB leaves room for long
// names and decodes in well under a second.
const maxStateBytes = 64 << 20

// savedRecord names a record in the state file.
type savedRecord struct {
	Zone string `json:"zone"`
	Name string `json:"name"`
	Type string `json:"type"`
}

func (r savedRecord) id() failover.RecordID {
	return failover.RecordID{Zone: r.Zone, Name: r.Name, Type: r.Type}
}

// savedOverride is one endpoint's override.
type savedOverride struct {
	savedRecord
	Endpoint string            `json:"endpoint"`
	Override failover.Override `json:"override"`
	// Until is the override's expiry; zero: until cleared.
	Until time.Time `json:"until,omitzero"`
}

// key identifies the endpoint whatever the case of the names.
func (o savedOverride) key() endpointKey {
	return endpointKey{strings.ToLower(o.Zone), strings.ToLower(o.Name), strings.ToUpper(o.Type), o.Endpoint}
}

// endpointKey is one endpoint of one record.
type endpointKey struct{ zone, name, typ, value string }

// captureState is the operator state a Manager's Status shows.
func captureState(st failover.Status) operatorState {
	s := operatorState{Version: stateVersion, Overrides: []savedOverride{}, Failbacks: []savedRecord{}}
	for _, z := range st.Zones {
		for _, r := range z.Records {
			rec := savedRecord{z.Name, r.Name, r.Type}
			if r.FailbackRequested {
				s.Failbacks = append(s.Failbacks, rec)
			}
			for _, e := range r.Endpoints {
				if e.Override != failover.NoOverride {
					s.Overrides = append(s.Overrides, savedOverride{rec, e.Value, e.Override, e.OverrideUntil})
				}
			}
		}
	}
	return s
}

// readState reads the state file; a file that does not exist is no state.
func readState(path string) (operatorState, error) {
	if path == "" {
		return operatorState{}, nil
	}
	data, err := readBounded(path, maxStateBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return operatorState{}, nil
	}
	if err != nil {
		return operatorState{}, fmt.Errorf("state file: %w", err)
	}
	var s operatorState
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return operatorState{}, fmt.Errorf("state file %s: %v (move it away to start without the operators' overrides)", path, err)
	}
	if s.Version != stateVersion {
		return operatorState{}, fmt.Errorf("state file %s: version %d, want %d", path, s.Version, stateVersion)
	}
	return s, nil
}

// writeState replaces the state file atomically: a temporary file in the
// same directory, synced, renamed over it, and the directory synced, so
// that a crash leaves the old state or the new one, never a mix. A state
// file that is a symbolic link (to a persistent volume, say) stays one:
// its target is what is replaced.
func writeState(path string, s operatorState) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if len(data) >= maxStateBytes {
		return fmt.Errorf("state file %s: %d overrides and %d failbacks take %d bytes, more than the %d failoverd reads back", path, len(s.Overrides), len(s.Failbacks), len(data)+1, maxStateBytes)
	}
	real := path
	if target, err := filepath.EvalSymlinks(path); err == nil {
		real = target
	}
	dir := filepath.Dir(real)
	f, err := os.CreateTemp(dir, "."+filepath.Base(real)+".*")
	if err != nil {
		return fmt.Errorf("state file %s: %w", path, err)
	}
	defer os.Remove(f.Name()) // after the rename, there is nothing to remove
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), real)
	}
	if err != nil {
		return fmt.Errorf("state file %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("state file %s: %w", path, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("state file %s: syncing %s: %w", path, dir, err)
	}
	return nil
}

// restoreState applies s to m before its Run, for the records and
// endpoints m still has: an override CarryOver already carried is left
// alone, one that expired meanwhile ends, one whose record or endpoint is
// gone ends too; each ending is returned as an override-ended event for
// the log and the webhooks. It returns the overrides it set, whose
// override-set events are restorations, not operators' actions.
func restoreState(m *failover.Manager, s operatorState, now time.Time) (set map[endpointKey]bool, ended []failover.Event, problems []error) {
	have := map[endpointKey]failover.EndpointStatus{}
	for _, z := range m.Status().Zones {
		for _, r := range z.Records {
			for _, e := range r.Endpoints {
				have[savedOverride{savedRecord: savedRecord{z.Name, r.Name, r.Type}, Endpoint: e.Value}.key()] = e
			}
		}
	}
	set = map[endpointKey]bool{}
	for _, o := range s.Overrides {
		end := failover.Event{Kind: failover.EventOverrideEnded, Time: now, Zone: o.Zone, Record: o.id(), Endpoint: o.Endpoint, Override: o.Override, OverrideUntil: o.Until}
		if e, ok := have[o.key()]; ok && e.Override == o.Override && e.OverrideUntil.Equal(o.Until) {
			continue // carried over
		}
		if !o.Until.IsZero() && !o.Until.After(now) {
			end.Reason = "expired while failoverd was not running"
			ended = append(ended, end)
			continue
		}
		var d time.Duration
		if !o.Until.IsZero() {
			d = o.Until.Sub(now)
		}
		err := m.SetOverride(o.id(), o.Endpoint, o.Override, d)
		switch {
		case errors.Is(err, failover.ErrUnknownRecord):
			end.Reason = "the record is no longer in the configuration"
			ended = append(ended, end)
		case errors.Is(err, failover.ErrUnknownEndpoint):
			end.Reason = "the endpoint is no longer in the record's configuration"
			ended = append(ended, end)
		case err != nil:
			problems = append(problems, err)
		default:
			set[o.key()] = true
		}
	}
	for _, r := range s.Failbacks {
		if err := m.Failback(r.id()); err != nil {
			problems = append(problems, fmt.Errorf("pending failback not kept: %w", err))
		}
	}
	return set, ended, problems
}

// restorations tells the override-set events of restored overrides from
// operators' actions, so that a restart or a reload notifies nothing.
type restorations struct {
	mu  sync.Mutex
	set map[endpointKey]bool
}

// take reports whether e is the override-set event of a restoration, and
// forgets that restoration.
func (r *restorations) take(e failover.Event) bool {
	if e.Kind != failover.EventOverrideSet {
		return false
	}
	k := savedOverride{savedRecord: savedRecord{e.Record.Zone, e.Record.Name, e.Record.Type}, Endpoint: e.Endpoint}.key()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.set[k] {
		return false
	}
	delete(r.set, k)
	return true
}

// reset replaces the restorations expected.
func (r *restorations) reset(set map[endpointKey]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.set = set
}
