package failover

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dnsfailover/failover/provider/memory"
)

// A failed provider call is reported for the whole zone, naming the call:
// a failed read is not reported as a write.
func TestProviderCallFailedNamesTheOperation(t *testing.T) {
	errProvider := errors.New("provider says no")
	for _, tc := range []struct {
		name   string
		method memory.Method
		policy Policy
		down   []string // endpoints taken down after the first write
		want   Operation
	}{
		{"read at start-up", memory.MethodGetRecords, basePol, nil, OpGet},
		{"write of a failover", memory.MethodSetRecords, basePol, []string{"192.0.2.10", "192.0.2.11"}, OpSet},
		{"delete when all are down", memory.MethodDeleteRecords, Policy{Interval: basePol.Interval, Timeout: basePol.Timeout, AllDown: PublishNothing},
			[]string{"192.0.2.10", "192.0.2.11", "192.0.2.20"}, OpDelete},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sb, p := newSwitchboard(), memZone(t)
				if tc.method == memory.MethodGetRecords {
					p.FailNext(tc.method, 1, errProvider)
				}
				h := run(t, oneZone(p, wwwRecord(sb, tc.policy)))
				h.settled()
				if tc.method != memory.MethodGetRecords {
					p.FailNext(tc.method, 1, errProvider)
					for _, v := range tc.down {
						sb.set(v, true)
					}
				}
				h.until(time.Minute, stepTime, "a failed call", func() bool { return len(h.of(EventProviderCallFailed)) > 0 })
				e := h.of(EventProviderCallFailed)[0]
				if e.Operation != tc.want || e.Zone != testZone || e.Record != (RecordID{}) || e.Provider != "memory.Provider" || e.Failures != 1 || !errors.Is(e.Err, errProvider) {
					t.Fatalf("got %v, want op=%v zone=%s provider=memory.Provider failures=1 err=%v and no record", e, tc.want, testZone, errProvider)
				}
			})
		})
	}
}
