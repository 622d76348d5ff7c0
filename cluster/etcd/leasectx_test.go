package etcd

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// A context handed out ends at the expiry known then, even after a
// renewal; one handed out after the renewal lasts to the new expiry; the
// leadership's end ends them all.
func TestLeaseContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lead, end := context.WithCancel(context.Background())
		var c leaseContext
		first := time.Now().Add(2 * time.Second)
		a := c.until(lead, first)
		if b := c.until(lead, first); b != a {
			t.Error("two calls with the same expiry: got two contexts, want one")
		}
		renewed := first.Add(time.Second)
		b := c.until(lead, renewed)
		if dl, _ := b.Deadline(); !dl.Equal(renewed) {
			t.Errorf("after the renewal: got deadline %v, want %v", dl, renewed)
		}
		time.Sleep(time.Until(first))
		synctest.Wait()
		if a.Err() == nil || b.Err() != nil {
			t.Errorf("at the first expiry: got errors %v and %v, want the first context done, the second not", a.Err(), b.Err())
		}
		end()
		if b.Err() == nil {
			t.Error("the leadership ended: the second context is not done")
		}
		other, stop := context.WithCancel(context.Background())
		defer stop()
		if d := c.until(other, renewed); d.Err() != nil {
			t.Errorf("a new leadership with the same expiry: got a done context (%v), want a new one", d.Err())
		}
	})
}
