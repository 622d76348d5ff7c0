package failover

import (
	"encoding/json"
	"fmt"
	"time"
)

// MarshalJSON writes r with its TTL as a duration string, such as "1m0s".
func (r RecordStatus) MarshalJSON() ([]byte, error) {
	type plain RecordStatus
	return json.Marshal(struct {
		plain
		TTL string `json:"ttl"`
	}{plain(r), r.TTL.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *RecordStatus) UnmarshalJSON(b []byte) error {
	type plain RecordStatus
	v := struct {
		*plain
		TTL string `json:"ttl"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return parseJSONDuration(v.TTL, &r.TTL, "ttl")
}

// MarshalJSON writes e with its LastLatency as a duration string, such as
// "2.5ms".
func (e EndpointStatus) MarshalJSON() ([]byte, error) {
	type plain EndpointStatus
	return json.Marshal(struct {
		plain
		LastLatency string `json:"last_latency"`
	}{plain(e), e.LastLatency.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *EndpointStatus) UnmarshalJSON(b []byte) error {
	type plain EndpointStatus
	v := struct {
		*plain
		LastLatency string `json:"last_latency"`
	}{plain: (*plain)(e)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return parseJSONDuration(v.LastLatency, &e.LastLatency, "last_latency")
}

// MarshalJSON writes v with its LeaseLeft as a duration string, such as
// "1.5s".
func (v ClusterView) MarshalJSON() ([]byte, error) {
	type plain ClusterView
	return json.Marshal(struct {
		plain
		LeaseLeft string `json:"lease_left"`
	}{plain(v), v.LeaseLeft.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (v *ClusterView) UnmarshalJSON(b []byte) error {
	type plain ClusterView
	w := struct {
		*plain
		LeaseLeft string `json:"lease_left"`
	}{plain: (*plain)(v)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	return parseJSONDuration(w.LeaseLeft, &v.LeaseLeft, "lease_left")
}

// parseJSONDuration sets *d from s, a duration string; empty leaves it 0.
func parseJSONDuration(s string, d *time.Duration, field string) error {
	if s == "" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("failover: %s: %w", field, err)
	}
	*d = v
	return nil
}
