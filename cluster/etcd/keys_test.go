package etcd

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/internal/servertest"
)

// Instance names that path escaping changes.
var oddNames = []string{"zürich-1", "node 1", "a,b", "100%", "東京"}

// The keys an instance writes for itself are read back under its name,
// whatever characters the name holds.
func TestInstanceKeysRoundTrip(t *testing.T) {
	for _, name := range append([]string{"a"}, oddNames...) {
		t.Run(name, func(t *testing.T) {
			v := newView("observer")
			v.apply(instancesDir+instancePath(name), []byte(name), 1, 1, false)
			v.apply(verdictsDir+instancePath(name)+"/"+endpointPath(ep), []byte("down"), 2, 2, false)
			if got, want := v.instanceNames(), []string{name}; !slices.Equal(got, want) {
				t.Errorf("got instances %q, want %q", got, want)
			}
			if got := v.verdicts[ep][name]; got != failover.HealthDown {
				t.Errorf("got verdict %v of %q, want down", got, name)
			}
		})
	}
}

// An instance named with a character that path escaping changes (a space,
// a comma, a non-ASCII letter) is live and its verdicts count:
// every other instance sees them under its name.
func TestEscapedInstanceNameVotesIgnored(t *testing.T) {
	etcd := servertest.StartEtcd(t, 1)
	b := startInstance(t, etcd, "b")
	var ins []*instance
	for _, name := range oddNames {
		ins = append(ins, startInstance(t, etcd, name))
	}
	want := []failover.Vote{{Instance: "b", Health: failover.HealthUnknown}}
	for _, in := range ins {
		want = append(want, failover.Vote{Instance: in.Instance(), Health: failover.HealthDown})
	}
	slices.SortFunc(want, func(x, y failover.Vote) int { return strings.Compare(x.Instance, y.Instance) })
	waitFor(t, 10*time.Second, "every instance connected", func() bool { return len(b.Status().Instances) == len(want) })
	for _, in := range ins {
		in.PublishVerdict(ep, failover.HealthDown)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Equal(b.Votes(ep), want) {
		if time.Now().After(deadline) {
			t.Fatalf("b sees votes %v 5 s after the others published down, want %v", b.Votes(ep), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var names []string
	for _, v := range want {
		names = append(names, v.Instance)
	}
	if got := b.Status().Instances; !slices.Equal(got, names) {
		t.Errorf("b's status lists instances %q, want %q", got, names)
	}
}
