package failover

import (
	"testing"
	"time"
)

// New never panics on user input, and accepts a record only when every
// value it holds is valid for its type.
func FuzzNew(f *testing.F) {
	f.Add("example.test.", "www", "A", "192.0.2.1", "192.0.2.2", int64(10), 3)
	f.Add("example.test", "www.example.test.", "CNAME", "a.example.net", "b..example.net", int64(-1), 0)
	f.Add("", "@", "aaaa", "2001:db8::1", "::ffff:192.0.2.1", int64(0), -1)
	f.Fuzz(func(t *testing.T, zone, name, typ, v1, v2 string, interval int64, failAfter int) {
		rec := Record{
			Name: name, Type: typ,
			Endpoints: []Endpoint{{Value: v1}, {Value: v2, Priority: 1}},
			Check:     newSwitchboard(),
			Policy:    Policy{Interval: time.Duration(interval) * time.Second, FailAfter: failAfter},
		}
		m, err := New(Config{Zones: []Zone{{Name: zone, Providers: []Provider{getSetter{}}, Records: []Record{rec}}}})
		if err != nil {
			return
		}
		r := m.records[0].spec
		for _, e := range r.endpoints {
			if got, err := normalizeValue(r.id.Type, e.Value); err != nil || got != e.Value {
				t.Fatalf("accepted %q for %s, which normalises to %q, %v", e.Value, r.id.Type, got, err)
			}
		}
	})
}
