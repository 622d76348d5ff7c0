package owner_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/dnsfailover/failover/provider/memory"
	"github.com/dnsfailover/failover/provider/owner"
	"github.com/libdns/libdns"
)

// bigZone returns a memory zone of n A records, each with this owner's
// owner record, and the A records.
func bigZone(b *testing.B, n int) (*memory.Provider, []libdns.Record) {
	b.Helper()
	var recs, as []libdns.Record
	for i := range n {
		name := fmt.Sprintf("host%d", i)
		rec := libdns.Address{Name: name, TTL: time.Minute, IP: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})}
		as = append(as, rec)
		recs = append(recs, rec, libdns.TXT{Name: "_failover-owner-a." + name, TTL: time.Hour, Text: "failover-owner=prod,type=A"})
	}
	p := &memory.Provider{}
	if err := p.AddZone(zone, recs...); err != nil {
		b.Fatal(err)
	}
	return p, as
}

// What the wrapper adds to a read of a zone of 20,000 owned records
// (40,000 with their owner records), compared with the read alone, and
// what it costs a write of all of them, the write itself left out.
func BenchmarkHugeZone(b *testing.B) {
	const n = 20000
	p, as := bigZone(b, n)
	w, err := ownerWrap(p)
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	nopW, err := owner.Wrap(nopWriter{p}, "prod") // what the wrapper costs a write, the write itself left out
	if err != nil {
		b.Fatal(err)
	}
	if _, err := nopW.GetRecords(ctx, zone); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		run  func() error
	}{
		{"read/memory", func() error { _, err := p.GetRecords(ctx, zone); return err }},
		{"read/wrapped", func() error { _, err := w.GetRecords(ctx, zone); return err }},
		{"write-all/wrapped-nop", func() error { _, err := nopW.SetRecords(ctx, zone, as); return err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.run(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
		})
	}
}

// nopWriter reads from a memory provider and writes nothing.
type nopWriter struct{ *memory.Provider }

func (nopWriter) SetRecords(_ context.Context, _ string, recs []libdns.Record) ([]libdns.Record, error) {
	return recs, nil
}

func ownerWrap(p *memory.Provider) (interface {
	GetRecords(context.Context, string) ([]libdns.Record, error)
	SetRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error)
}, error) {
	return owner.Wrap(p, "prod")
}
