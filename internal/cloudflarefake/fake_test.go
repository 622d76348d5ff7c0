package cloudflarefake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// do sends one request in process and returns the HTTP status and the
// first error code (0 when none).
func do(t *testing.T, s *Server, method, path string, body any) (int, int, json.RawMessage) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := s.Transport().RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Errors []apiError      `json:"errors"`
		Result json.RawMessage `json:"result"`
	}
	json.NewDecoder(resp.Body).Decode(&env)
	code := 0
	if len(env.Errors) > 0 {
		code = env.Errors[0].Code
	}
	return resp.StatusCode, code, env.Result
}

func TestRulesTheAPIApplies(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing Record
		post     map[string]any
		wantCode int
	}{
		{"A beside a CNAME", Record{Name: "x", Type: "CNAME", Content: "t.example.net"}, map[string]any{"name": "x", "type": "A", "content": "192.0.2.1"}, 81053},
		{"CNAME beside an A", Record{Name: "x", Type: "A", Content: "192.0.2.1"}, map[string]any{"name": "x", "type": "CNAME", "content": "t.example.net"}, 81053},
		{"CNAME beside a CNAME", Record{Name: "x", Type: "CNAME", Content: "t.example.net"}, map[string]any{"name": "x", "type": "CNAME", "content": "u.example.net"}, 81053},
		{"identical record", Record{Name: "x", Type: "A", Content: "192.0.2.1"}, map[string]any{"name": "x", "type": "A", "content": "192.0.2.1"}, 81058},
		{"TTL below 60", Record{}, map[string]any{"name": "x", "type": "A", "content": "192.0.2.1", "ttl": 30}, 9021},
		{"MX without priority", Record{}, map[string]any{"name": "x", "type": "MX", "content": "mx.example.com"}, 9100},
		{"MX preference in content", Record{}, map[string]any{"name": "x", "type": "MX", "content": "10 mx.example.com", "priority": 10}, 9102},
		{"SRV without data", Record{}, map[string]any{"name": "_s._tcp", "type": "SRV", "content": "1 2 3 t.example.com"}, 9101},
		{"proxied TXT", Record{}, map[string]any{"name": "x", "type": "TXT", "content": "x", "proxied": true}, 9004},
		{"a second A", Record{Name: "x", Type: "A", Content: "192.0.2.1"}, map[string]any{"name": "x", "type": "A", "content": "192.0.2.2"}, 0},
	} {
		s := New("tok", "example.com.")
		if tc.existing.Type != "" {
			s.AddRecord("example.com.", tc.existing)
		}
		if _, code, _ := do(t, s, http.MethodPost, "/zones/zone001/dns_records", tc.post); code != tc.wantCode {
			t.Errorf("%s: got code %d, want %d", tc.name, code, tc.wantCode)
		}
	}
}

func TestProxiedTTLAndWhatPatchAndPutKeep(t *testing.T) {
	s := New("tok", "example.com.")
	r := s.AddRecord("example.com.", Record{Name: "www", Type: "A", Content: "192.0.2.1", TTL: 300, Proxied: true, Tags: []string{"a:b"}})
	if r.TTL != 1 {
		t.Fatalf("proxied record: got TTL %d, want 1 (automatic)", r.TTL)
	}
	do(t, s, http.MethodPatch, "/zones/zone001/dns_records/"+r.ID, map[string]any{"content": "192.0.2.2", "ttl": 120})
	if got := s.Get("example.com.")[0]; !got.Proxied || got.TTL != 1 || len(got.Tags) != 1 || got.Content != "192.0.2.2" {
		t.Fatalf("after PATCH: got %+v, want the content changed, still proxied with TTL 1 and its tag", got)
	}
	do(t, s, http.MethodPut, "/zones/zone001/dns_records/"+r.ID, map[string]any{"name": "www", "type": "A", "content": "192.0.2.3", "ttl": 120})
	if got := s.Get("example.com.")[0]; got.Proxied || got.TTL != 120 || len(got.Tags) != 0 {
		t.Fatalf("after PUT: got %+v, want a PUT to reset proxied and tags", got)
	}
}

func TestBatchIsAllOrNothingAndLimited(t *testing.T) {
	s := New("tok", "example.com.")
	a := s.Add("example.com.", "a", "A", "192.0.2.1", 60)
	status, code, _ := do(t, s, http.MethodPost, "/zones/zone001/dns_records/batch", map[string]any{
		"deletes": []map[string]any{{"id": a}},
		"posts":   []map[string]any{{"name": "b", "type": "A", "content": "192.0.2.1"}, {"name": "c", "type": "A", "content": "192.0.2.1", "ttl": 5}},
	})
	if status != http.StatusBadRequest || code != 9021 || len(s.Get("example.com.")) != 1 {
		t.Fatalf("batch with a bad post: got %d/%d and %v, want 400/9021 and nothing changed", status, code, s.Records("example.com."))
	}
	s.SetBatchLimit(1)
	if _, code, _ := do(t, s, http.MethodPost, "/zones/zone001/dns_records/batch", map[string]any{
		"deletes": []map[string]any{{"id": a}}, "posts": []map[string]any{{"name": "b", "type": "A", "content": "192.0.2.1"}},
	}); code != 9103 {
		t.Fatalf("batch over the limit: got code %d, want 9103", code)
	}
}
