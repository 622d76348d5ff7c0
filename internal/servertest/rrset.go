package servertest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

// RRset reads zone through p and returns its (name, typ) RRset, name
// relative to zone, as "TTL value" lines (TTL in seconds), sorted. A read
// error fails the test.
func RRset(t testing.TB, p libdns.RecordGetter, zone, name, typ string) []string {
	t.Helper()
	recs, err := p.GetRecords(t.Context(), zone)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		if rr := r.RR(); rr.Name == name && rr.Type == typ {
			out = append(out, fmt.Sprintf("%d %s", int(rr.TTL/time.Second), rr.Data))
		}
	}
	slices.Sort(out)
	return out
}
