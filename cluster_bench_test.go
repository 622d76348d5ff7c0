package failover

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// votingCluster is a connected three-instance Cluster whose votes a
// benchmark sets: every instance sees every endpoint up, except those in
// down.
type votingCluster struct {
	fakeLease
	down map[EndpointID]bool
}

func (c *votingCluster) Votes(id EndpointID) []Vote {
	h := HealthUp
	if c.down[id] {
		h = HealthDown
	}
	return []Vote{{"a", h}, {"b", h}, {"c", h}}
}

func (*votingCluster) Status() ClusterStatus { return ClusterStatus{Connected: true} }

// BenchmarkClusterVotes is one loop turn's work on votes with 20,000
// endpoints (10,000 records × 2) and three instances: a batch of changed
// endpoints read again, each instance's isolation found again, and the
// cluster health of the changed ones recomputed. The isolation is kept
// up to date per endpoint, so a turn costs what changed; "everything"
// (a new lease, an instance joining) reads them all.
func BenchmarkClusterVotes(b *testing.B) {
	const records = 10000
	var recs []Record
	ok := CheckerFunc(func(context.Context, string) error { return nil })
	for i := range records {
		recs = append(recs, Record{Name: fmt.Sprintf("r%d", i), Type: "A",
			Endpoints: []Endpoint{{Value: fmt.Sprintf("10.%d.%d.1", i/256%256, i%256)}, {Value: fmt.Sprintf("10.%d.%d.2", i/256%256, i%256), Priority: 1}},
			Check:     ok})
	}
	vc := &votingCluster{fakeLease: fakeLease{"a", time.Minute}, down: map[EndpointID]bool{}}
	m, err := New(Config{Zones: []Zone{{Name: testZone, Providers: []Provider{memZone(b)}, Records: recs}}, Cluster: vc})
	if err != nil {
		b.Fatal(err)
	}
	var eps []*endpointRun
	for _, r := range m.records {
		eps = append(eps, r.eps...)
	}
	now := time.Now()
	dirty := map[*recordRun]bool{}
	m.refreshVotes(nil, true, now, dirty)
	for _, batch := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("changed=%d", batch), func(b *testing.B) {
			changed := eps[:batch]
			for i := 0; b.Loop(); i++ {
				for _, ep := range changed {
					vc.down[ep.id()] = i%2 == 0
				}
				m.refreshVotes(changed, false, now, dirty)
				clear(dirty)
			}
		})
	}
	b.Run("everything", func(b *testing.B) {
		for b.Loop() {
			m.refreshVotes(nil, true, now, dirty)
			clear(dirty)
		}
	})
}
