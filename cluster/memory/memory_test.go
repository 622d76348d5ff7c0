package memory

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover"
)

var ep = failover.EndpointID{Record: failover.RecordID{Zone: "example.test.", Name: "www", Type: "A"}, Value: "192.0.2.10"}

func start(t *testing.T, s *Store, names ...string) []*Instance {
	var out []*Instance
	for _, n := range names {
		in := s.Instance(n)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); in.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		out = append(out, in)
		synctest.Wait()
	}
	return out
}

func leads(in *Instance) bool { _, _, ok := in.Lead(0); return ok }

// The oldest instance leads; cut off, its gate closes when its lease ends,
// and the next one leads from that instant, within the TTL and one tick.
func TestTakeover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ttl = 2 * time.Second
		s := NewStore(ttl)
		ins := start(t, s, "a", "b", "c")
		if !leads(ins[0]) || leads(ins[1]) || leads(ins[2]) {
			t.Fatalf("got leaders a=%v b=%v c=%v, want a alone", leads(ins[0]), leads(ins[1]), leads(ins[2]))
		}
		ctx, term, _ := ins[0].Lead(0)
		ins[0].SaveDecision(ep.Record, []byte("state"))
		ins[1].SaveDecision(ep.Record, []byte("dropped"))
		cut := time.Now()
		ins[0].Cut(true)
		for !leads(ins[1]) {
			time.Sleep(10 * time.Millisecond)
			if leads(ins[0]) && leads(ins[1]) {
				t.Fatal("a and b lead at once")
			}
		}
		if took := time.Since(cut); took > ttl+ttl/10 {
			t.Errorf("takeover took %v, want at most %v", took, ttl+ttl/10)
		}
		synctest.Wait() // every instance has run at this instant
		if ctx.Err() == nil {
			t.Error("the cut-off leader's context is not done")
		}
		if _, newTerm, _ := ins[1].Lead(0); newTerm <= term {
			t.Errorf("new term %d, want above %d", newTerm, term)
		}
		if st, _ := ins[1].Decision(ep.Record); string(st) != "state" {
			t.Errorf("new leader reads decision %q, want the old leader's", st)
		}
		if got := ins[0].Status(); got.Connected || got.Leading {
			t.Errorf("cut-off status %+v, want not connected, not leading", got)
		}
	})
}

// Verdicts are seen by every instance, written only on change, and leave
// with their instance.
func TestVerdicts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewStore(time.Second)
		ins := start(t, s, "a", "b", "c")
		before := s.Writes()
		ins[0].PublishVerdict(ep, failover.HealthDown)
		ins[0].PublishVerdict(ep, failover.HealthDown)
		if got := s.Writes() - before; got != 1 {
			t.Errorf("the same verdict twice: got %d writes, want 1", got)
		}
		want := []failover.Vote{{Instance: "a", Health: failover.HealthDown}, {Instance: "b"}, {Instance: "c"}}
		if got := ins[1].Votes(ep); !slices.Equal(got, want) {
			t.Errorf("b sees %v, want %v", got, want)
		}
		if got := ins[1].TakeChanges(); !slices.Contains(got.Endpoints, ep) {
			t.Errorf("b's changes %+v do not name the endpoint", got)
		}
		ins[0].Cut(true)
		time.Sleep(2 * time.Second)
		if got := ins[1].Votes(ep); len(got) != 2 {
			t.Errorf("after a's lease expired b sees %v, want b and c only", got)
		}
		before = s.Writes()
		time.Sleep(time.Minute)
		if got := s.Writes() - before; got != 0 {
			t.Errorf("a minute at rest: got %d writes, want 0", got)
		}
	})
}

// Operator state reaches the leader; a failback request is taken once, by
// the leader only; an override expires on time.
func TestOperatorState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewStore(time.Second)
		ins := start(t, s, "a", "b")
		if err := ins[1].SetOverride(t.Context(), ep, failover.ForceDown, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := ins[1].RequestFailback(t.Context(), ep.Record); err != nil {
			t.Fatal(err)
		}
		if got := ins[0].Overrides(); len(got) != 1 || got[0].Override != failover.ForceDown {
			t.Errorf("leader sees overrides %+v, want the force-down", got)
		}
		if ins[1].TakeFailback(ep.Record) {
			t.Error("a follower took the failback request")
		}
		if !ins[0].TakeFailback(ep.Record) || ins[0].TakeFailback(ep.Record) {
			t.Error("want the leader to take the failback request exactly once")
		}
		time.Sleep(time.Minute)
		if got := ins[0].Overrides(); len(got) != 0 {
			t.Errorf("after its expiry: got overrides %+v, want none", got)
		}
	})
}
