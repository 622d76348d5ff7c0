// Package providertest is the contract a libdns provider must meet for the
// failover Manager to drive it safely: whole-RRset replacement, other
// records untouched, typed reads with zone-relative names, safe concurrent
// use and respect for its context. Run it from a provider's tests:
//
//	func TestContract(t *testing.T) {
//		providertest.Run(t, "example.test.", provider)
//	}
//
// The zone must exist and may hold other records; the suite writes only
// names that start with "pt-" and deletes nothing it did not write.
package providertest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

// Provider is what the Manager calls: reading a zone and replacing RRsets.
type Provider interface {
	libdns.RecordGetter
	libdns.RecordSetter
}

// Options adjust the suite for one provider.
type Options struct {
	// Skip names cases the provider is known to fail, each with the
	// reason (an upstream bug, say); they are skipped with that reason.
	Skip map[string]string
	// Timeout bounds each call. Zero means 30 s.
	Timeout time.Duration
}

// Run runs every case against p in zone.
func Run(t *testing.T, zone string, p Provider) { RunWith(t, zone, p, Options{}) }

// RunWith runs every case against p in zone, with opts.
func RunWith(t *testing.T, zone string, p Provider, opts Options) {
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	s := &suite{zone: zone, p: p, timeout: opts.Timeout}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if why, ok := opts.Skip[c.name]; ok {
				t.Skip(why)
			}
			c.run(t, s)
		})
	}
}

type suite struct {
	zone    string
	p       Provider
	timeout time.Duration
}

var cases = []struct {
	name string
	run  func(*testing.T, *suite)
}{
	{"set-one-value", setOneValue},
	{"replace-two-with-one", replaceTwoWithOne},
	{"replace-one-with-three", replaceOneWithThree},
	{"a-beside-aaaa", aBesideAAAA},
	{"ttl-change-alone", ttlChangeAlone},
	{"other-pairs-untouched", otherPairsUntouched},
	{"cname-set-and-replaced", cnameSetAndReplaced},
	{"concurrent-writes", concurrentWrites},
	{"cancelled-context", cancelledContext},
}

func a(name, ip string, ttl time.Duration) libdns.Record {
	return libdns.Address{Name: name, TTL: ttl, IP: netip.MustParseAddr(ip)}
}

// set calls SetRecords and fails the test on error. It calls t.Fatalf, so
// it must run on the test's goroutine; goroutines call write.
func (s *suite) set(t *testing.T, recs ...libdns.Record) {
	t.Helper()
	if err := s.write(t, recs...); err != nil {
		t.Fatal(err)
	}
}

// write calls SetRecords and returns its error, saying which call failed.
// It is safe to call from any goroutine.
func (s *suite) write(t *testing.T, recs ...libdns.Record) error {
	ctx, cancel := context.WithTimeout(t.Context(), s.timeout)
	defer cancel()
	if _, err := s.p.SetRecords(ctx, s.zone, recs); err != nil {
		return fmt.Errorf("SetRecords(%v): %w", recs, err)
	}
	return nil
}

// rrset reads the zone and returns the (name, typ) RRset as sorted
// "ttl value" strings, checking that every record is typed and named
// relative to the zone.
func (s *suite) rrset(t *testing.T, name, typ string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), s.timeout)
	defer cancel()
	recs, err := s.p.GetRecords(ctx, s.zone)
	if err != nil {
		t.Fatalf("GetRecords: %v", err)
	}
	var out []string
	for _, r := range recs {
		rr := r.RR()
		if _, opaque := r.(libdns.RR); opaque {
			if typed, err := rr.Parse(); err == nil {
				if _, still := typed.(libdns.RR); !still { // libdns has a type for it
					t.Errorf("GetRecords returned an opaque libdns.RR (%v), want a %T", r, typed)
				}
			}
		}
		if strings.HasSuffix(rr.Name, ".") || rr.Name == "" {
			t.Errorf("GetRecords returned name %q, want it relative to %s", rr.Name, s.zone)
		}
		if !strings.EqualFold(rr.Name, name) || rr.Type != typ {
			continue
		}
		data := rr.Data
		if typ == "CNAME" {
			data = strings.ToLower(strings.TrimSuffix(data, ".")) + "."
		}
		out = append(out, fmt.Sprintf("%d %s", int(rr.TTL/time.Second), data))
	}
	slices.Sort(out)
	return out
}

func (s *suite) expect(t *testing.T, name, typ string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := s.rrset(t, name, typ); !slices.Equal(got, want) {
		t.Fatalf("%s %s: got %q, want %q", name, typ, got, want)
	}
}

func setOneValue(t *testing.T, s *suite) {
	s.set(t, a("pt-one", "192.0.2.1", time.Minute))
	s.expect(t, "pt-one", "A", "60 192.0.2.1")
}

func replaceTwoWithOne(t *testing.T, s *suite) {
	s.set(t, a("pt-two", "192.0.2.1", time.Minute), a("pt-two", "192.0.2.2", time.Minute))
	s.expect(t, "pt-two", "A", "60 192.0.2.1", "60 192.0.2.2")
	s.set(t, a("pt-two", "192.0.2.3", time.Minute))
	s.expect(t, "pt-two", "A", "60 192.0.2.3")
}

func replaceOneWithThree(t *testing.T, s *suite) {
	s.set(t, a("pt-three", "192.0.2.1", time.Minute))
	s.set(t, a("pt-three", "192.0.2.1", time.Minute), a("pt-three", "192.0.2.2", time.Minute), a("pt-three", "192.0.2.3", time.Minute))
	s.expect(t, "pt-three", "A", "60 192.0.2.1", "60 192.0.2.2", "60 192.0.2.3")
}

func aBesideAAAA(t *testing.T, s *suite) {
	s.set(t, a("pt-dual", "192.0.2.1", time.Minute), a("pt-dual", "2001:db8::1", time.Minute))
	s.set(t, a("pt-dual", "192.0.2.2", time.Minute))
	s.expect(t, "pt-dual", "A", "60 192.0.2.2")
	s.expect(t, "pt-dual", "AAAA", "60 2001:db8::1")
}

func ttlChangeAlone(t *testing.T, s *suite) {
	s.set(t, a("pt-ttl", "192.0.2.1", time.Minute), a("pt-ttl", "192.0.2.2", time.Minute))
	s.set(t, a("pt-ttl", "192.0.2.1", 2*time.Minute), a("pt-ttl", "192.0.2.2", 2*time.Minute))
	s.expect(t, "pt-ttl", "A", "120 192.0.2.1", "120 192.0.2.2")
}

func otherPairsUntouched(t *testing.T, s *suite) {
	s.set(t, a("pt-keep", "192.0.2.1", time.Minute), libdns.TXT{Name: "pt-keep", TTL: time.Minute, Text: "keep"}, a("pt-keep-other", "192.0.2.9", time.Minute))
	s.set(t, a("pt-keep", "192.0.2.2", time.Minute))
	s.expect(t, "pt-keep", "A", "60 192.0.2.2")
	if got := s.rrset(t, "pt-keep", "TXT"); len(got) != 1 || !strings.Contains(got[0], "keep") {
		t.Fatalf("TXT beside it: got %q, want it kept", got)
	}
	s.expect(t, "pt-keep-other", "A", "60 192.0.2.9")
}

func cnameSetAndReplaced(t *testing.T, s *suite) {
	s.set(t, libdns.CNAME{Name: "pt-alias", TTL: time.Minute, Target: "primary.example.net."})
	s.expect(t, "pt-alias", "CNAME", "60 primary.example.net.")
	s.set(t, libdns.CNAME{Name: "pt-alias", TTL: time.Minute, Target: "backup.example.net."})
	s.expect(t, "pt-alias", "CNAME", "60 backup.example.net.")
}

func concurrentWrites(t *testing.T, s *suite) {
	var wg sync.WaitGroup
	errs := make([]error, 8) // reported from here: t.Fatal must not be called from the writers
	for i := range 8 {
		wg.Go(func() {
			errs[i] = s.write(t, a(fmt.Sprintf("pt-conc-%d", i), fmt.Sprintf("192.0.2.%d", i+1), time.Minute))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		s.expect(t, fmt.Sprintf("pt-conc-%d", i), "A", fmt.Sprintf("60 192.0.2.%d", i+1))
	}
}

func cancelledContext(t *testing.T, s *suite) {
	s.set(t, a("pt-ctx", "192.0.2.1", time.Minute))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.p.SetRecords(ctx, s.zone, []libdns.Record{a("pt-ctx", "192.0.2.2", time.Minute)}); err == nil {
		t.Fatal("SetRecords with a cancelled context: got nil error")
	}
	if _, err := s.p.GetRecords(ctx, s.zone); err == nil {
		t.Fatal("GetRecords with a cancelled context: got nil error")
	}
	s.expect(t, "pt-ctx", "A", "60 192.0.2.1")
}
