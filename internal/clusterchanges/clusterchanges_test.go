package clusterchanges

import (
	"testing"

	"github.com/dnsfailover/failover"
)

func TestTake(t *testing.T) {
	var p Pending
	ep := failover.EndpointID{Record: failover.RecordID{Zone: "example.test.", Name: "www", Type: "A"}, Value: "192.0.2.1"}
	p.Endpoint(ep)
	p.Endpoint(ep)
	p.Record(ep.Record)
	p.Leadership = true
	got := p.Take()
	if len(got.Endpoints) != 1 || got.Endpoints[0] != ep || len(got.Records) != 1 || got.Records[0] != ep.Record || !got.Leadership || got.Everything {
		t.Errorf("got %+v, want the endpoint and record once, Leadership", got)
	}
	if again := p.Take(); len(again.Endpoints)+len(again.Records) != 0 || again.Leadership {
		t.Errorf("second Take: got %+v, want nothing", again)
	}
}
