package failover

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestStatusJSON(t *testing.T) {
	at := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	st := Status{Zones: []ZoneStatus{{
		Name:      "example.test.",
		Providers: []ProviderStatus{{Name: "memory", InSync: true, LastRead: at}},
		Records: []RecordStatus{{
			Name: "www", Type: "A", Decided: true, Published: []string{"192.0.2.10"}, TTL: time.Minute, ChangedAt: at,
			Endpoints: []EndpointStatus{
				{Value: "192.0.2.10", Health: HealthUp, Since: at, LastCheck: at, LastLatency: 2500 * time.Microsecond, CertificateExpiry: at.AddDate(0, 2, 0)},
				{Value: "192.0.2.20", Priority: 1, Override: ForceDown, OverrideUntil: at.Add(time.Hour)},
			},
		}},
	}}}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{`"ttl":"1m0s"`, `"last_latency":"2.5ms"`, `"last_latency":"0s"`, `"override":"force-down"`, `"changed_at":"2026-11-25T14:00:00Z"`, `"certificate_expiry":"2027-01-25T14:00:00Z"`} {
		if !strings.Contains(text, want) {
			t.Errorf("JSON lacks %s:\n%s", want, text)
		}
	}
	for _, absent := range []string{"0001-01-01", `"converged_by"`, `"last_write"`} {
		if strings.Contains(text, absent) {
			t.Errorf("JSON holds %s, want zero times left out:\n%s", absent, text)
		}
	}
	var back Status
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, st) {
		t.Errorf("read back:\n got %+v\nwant %+v", back, st)
	}
	var bad RecordStatus
	if err := json.Unmarshal([]byte(`{"ttl":"soon"}`), &bad); err == nil || !strings.Contains(err.Error(), "ttl") {
		t.Errorf("a TTL that is no duration: got %v, want an error naming ttl", err)
	}
}

// The cluster section reads back as written, its lease left as a
// duration string; each endpoint's votes and cluster health are kept.
func TestStatusJSONCluster(t *testing.T) {
	st := Status{
		Cluster: &ClusterView{
			ClusterStatus: ClusterStatus{Instance: "b", Instances: []string{"a", "b", "c"}, Leader: "a", Connected: true, LeaseLeft: 1500 * time.Millisecond},
			Isolated:      []string{"c"},
		},
		Zones: []ZoneStatus{{Name: "example.test.", Records: []RecordStatus{{Name: "www", Type: "A", Endpoints: []EndpointStatus{{
			Value: "192.0.2.10", Health: HealthDown, ClusterHealth: HealthUp,
			Votes: []Vote{{Instance: "a", Health: HealthUp}, {Instance: "b", Health: HealthDown}, {Instance: "c", Health: HealthUp}},
		}}}}}},
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{`"lease_left":"1.5s"`, `"isolated":["c"]`, `"cluster_health":"up"`, `{"instance":"b","health":"down"}`, `"leader":"a"`} {
		if !strings.Contains(text, want) {
			t.Errorf("JSON lacks %s:\n%s", want, text)
		}
	}
	var back Status
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, st) {
		t.Errorf("read back:\n got %+v\nwant %+v", back, st)
	}
}
