//go:build failing

package failover_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover"
	"github.com/dnsfailover/failover/provider/memory"
)

// portCheck is a checker compared by value: two portChecks with the same
// Port check the same thing. It counts its calls per target.
type portCheck struct{ Port int }

var portCheckCalls = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

func (c *portCheck) Check(_ context.Context, target string) error {
	portCheckCalls.Lock()
	portCheckCalls.n[target]++
	portCheckCalls.Unlock()
	return nil
}

// Issue 13: "In the library, share probes for equal checker values, not
// only identical pointers." Two records written each with its own
// &check.HTTP{Path: "/healthz"} (what failoverd builds for two inline
// checks) probe the same endpoint twice per interval today.
func TestEqualCheckerValuesShareOneProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &memory.Provider{}
		p.AddZone("example.test.")
		policy := failover.Policy{Interval: 10 * time.Second}
		m, err := failover.New(failover.Config{Zones: []failover.Zone{{
			Name: "example.test.", Providers: []failover.Provider{p},
			Records: []failover.Record{
				{Name: "a", Type: "A", Check: &portCheck{Port: 80}, Policy: policy, Endpoints: []failover.Endpoint{{Value: "192.0.2.1"}}},
				{Name: "b", Type: "A", Check: &portCheck{Port: 80}, Policy: policy, Endpoints: []failover.Endpoint{{Value: "192.0.2.1"}}},
			},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()
		time.Sleep(95 * time.Second)
		synctest.Wait()
		cancel()
		<-done
		portCheckCalls.Lock()
		got := portCheckCalls.n["192.0.2.1"]
		portCheckCalls.Unlock()
		if got > 15 {
			t.Errorf("95 s at a 10 s interval, two records with equal checks of 192.0.2.1: got %d checks, want about 10 (one probe)", got)
		}
	})
}
