package memory

import (
	"context"
	"fmt"
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

// drain reports whether the instance was signalled, and what it was told.
func drain(in *Instance) (bool, failover.ClusterChanges) {
	select {
	case <-in.Changed():
		return true, in.TakeChanges()
	default:
		return false, in.TakeChanges()
	}
}

// As etcd's watch skips an instance's own verdict keys, an instance is
// signalled about the others' verdicts, never its own.
func TestOwnVerdictNotSignalled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewStore(2 * time.Second)
		ins := start(t, s, "a", "b")
		for _, in := range ins {
			drain(in)
		}
		ins[0].PublishVerdict(ep, failover.HealthDown)
		for _, tc := range []struct {
			in   *Instance
			want bool
		}{{ins[0], false}, {ins[1], true}} {
			signalled, ch := drain(tc.in)
			if got := signalled && slices.Contains(ch.Endpoints, ep); got != tc.want {
				t.Errorf("%s signalled about a's verdict: got %v (changes %+v), want %v", tc.in.Instance(), got, ch, tc.want)
			}
		}
	})
}

// An instance cut off hears nothing and sees the cluster as it was until
// its lease expires (a leader keeps leading until then); at the expiry it
// is told (Everything, and Leadership if it led), as etcd's ended session
// tells it, and sees its own verdict alone; healed, it joins again.
func TestCutOffInstanceToldAtLeaseExpiry(t *testing.T) {
	for _, leader := range []bool{true, false} {
		t.Run(fmt.Sprintf("leader=%v", leader), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const ttl = 2 * time.Second
				s := NewStore(ttl)
				ins := start(t, s, "a", "b", "c")
				cut, other := ins[1], ins[2]
				if leader {
					cut, other = ins[0], ins[2]
				}
				cut.PublishVerdict(ep, failover.HealthUp)
				other.PublishVerdict(ep, failover.HealthUp)
				synctest.Wait()
				before := cut.Votes(ep)
				drain(cut)
				cut.Cut(true)
				expires := time.Now().Add(cut.Status().LeaseLeft)
				other.PublishVerdict(ep, failover.HealthDown)
				time.Sleep(time.Until(expires) - time.Millisecond)
				synctest.Wait()
				if signalled, ch := drain(cut); signalled {
					t.Errorf("cut off, before its lease expired: told %+v, want nothing", ch)
				}
				if got := cut.Votes(ep); !slices.Equal(got, before) {
					t.Errorf("cut off, before its lease expired: got votes %v, want those seen when cut, %v", got, before)
				}
				if st := cut.Status(); !st.Connected || len(st.Instances) != 3 {
					t.Errorf("cut off, before its lease expired: got status %+v, want connected, seeing 3 instances", st)
				}
				if got := leads(cut); got != leader {
					t.Errorf("cut off, before its lease expired: leads %v, want %v", got, leader)
				}

				time.Sleep(time.Millisecond)
				synctest.Wait()
				signalled, ch := drain(cut)
				if !signalled || !ch.Everything || ch.Leadership != leader {
					t.Errorf("at its lease's expiry: told %v %+v, want Everything, Leadership %v", signalled, ch, leader)
				}
				own := []failover.Vote{{Instance: cut.Instance(), Health: failover.HealthUp}}
				if got := cut.Votes(ep); !slices.Equal(got, own) {
					t.Errorf("after its lease expired: got votes %v, want its own alone, %v", got, own)
				}
				if st := cut.Status(); st.Connected || st.Leading || st.Err == "" || leads(cut) {
					t.Errorf("after its lease expired: got status %+v, want not connected, not leading, with a reason", st)
				}

				cut.Cut(false)
				time.Sleep(ttl)
				synctest.Wait()
				if signalled, ch := drain(cut); !signalled || !ch.Everything {
					t.Errorf("healed: told %v %+v, want Everything", signalled, ch)
				}
				if got := cut.Votes(ep); len(got) != 3 || got[2].Health != failover.HealthDown {
					t.Errorf("healed: got votes %v, want 3, with c's down", got)
				}
			})
		})
	}
}

// Healed before its lease expired, an instance is told Everything: what
// it missed, as etcd's watch replays it.
func TestHealedInstanceToldWhatItMissed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewStore(2 * time.Second)
		ins := start(t, s, "a", "b")
		drain(ins[1])
		ins[1].Cut(true)
		ins[0].PublishVerdict(ep, failover.HealthDown)
		ins[1].Cut(false)
		signalled, ch := drain(ins[1])
		if !signalled || !ch.Everything {
			t.Errorf("healed within its lease: told %v %+v, want Everything", signalled, ch)
		}
		want := []failover.Vote{{Instance: "a", Health: failover.HealthDown}, {Instance: "b"}}
		if got := ins[1].Votes(ep); !slices.Equal(got, want) {
			t.Errorf("healed within its lease: got votes %v, want %v", got, want)
		}
	})
}
