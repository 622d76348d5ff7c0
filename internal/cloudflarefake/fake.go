// Package cloudflarefake is a local fake of the Cloudflare v4 DNS API, as
// far as libdns providers use it: zone lookup, DNS record list (paged, with
// filters), create, patch and delete, the JSON envelope, bearer tokens, the
// TTL rules, duplicate and CNAME conflicts, and faults on demand (429 with
// Retry-After, 500). It counts requests so tests can tell what an
// operation costs.
package cloudflarefake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Record is a DNS record as Cloudflare holds it: Name is fully qualified
// without a trailing dot.
type Record struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Name    string `json:"name"`
	Content string `json:"content"`
	TTL     int    `json:"ttl"`
	ZoneID  string `json:"zone_id"`
}

// Fault makes a request fail instead of being served.
type Fault struct {
	Status     int // 429 or 5xx
	RetryAfter int // seconds, sent with 429
}

// Server is the fake. Create it with Start.
type Server struct {
	URL   string // base URL, such as http://127.0.0.1:PORT/client/v4
	Token string // the bearer token it accepts

	srv *httptest.Server

	mu       sync.Mutex
	zones    map[string]string // name (no trailing dot) -> id
	records  map[string]Record // by id
	nextID   int
	requests map[string]int // "METHOD kind" -> count
	faults   []func(*http.Request) *Fault
}

// Start starts a fake holding the given zones (names with or without a
// trailing dot) and accepting token.
func Start(token string, zones ...string) *Server {
	s := &Server{Token: token, zones: map[string]string{}, records: map[string]Record{}, requests: map[string]int{}}
	for i, z := range zones {
		s.zones[strings.TrimSuffix(z, ".")] = fmt.Sprintf("zone%03d", i+1)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/client/v4"
	return s
}

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// Requests returns how many requests of a kind were served, such as "GET
// zones", "GET dns_records", "POST dns_records", "PATCH dns_records",
// "DELETE dns_records"; "" counts all of them.
func (s *Server) Requests(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if kind == "" {
		n := 0
		for _, c := range s.requests {
			n += c
		}
		return n
	}
	return s.requests[kind]
}

// ResetRequests sets the request counts to zero.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.requests)
}

// FailNext makes the next n requests for which match returns true (nil:
// any) fail with f.
func (s *Server) FailNext(n int, match func(*http.Request) bool, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := n
	s.faults = append(s.faults, func(r *http.Request) *Fault {
		if left > 0 && (match == nil || match(r)) {
			left--
			return &f
		}
		return nil
	})
}

// Add puts a record straight into the fake (name relative to zone, "@"
// for the apex), as an edit in the dashboard would.
func (s *Server) Add(zone, name, typ, content string, ttl int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := strings.TrimSuffix(zone, ".")
	s.create(Record{Type: typ, Name: fqdn(name, z), Content: content, TTL: ttl, ZoneID: s.zones[z]})
}

// Records returns the records of zone as "name type content ttl" lines,
// sorted.
func (s *Server) Records(zone string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.zones[strings.TrimSuffix(zone, ".")]
	var out []string
	for _, r := range s.records {
		if r.ZoneID == id {
			out = append(out, fmt.Sprintf("%s %s %s %d", r.Name, r.Type, r.Content, r.TTL))
		}
	}
	slices.Sort(out)
	return out
}

func fqdn(name, zone string) string {
	if name == "@" || name == "" {
		return zone
	}
	return name + "." + zone
}

func (s *Server) create(r Record) Record {
	s.nextID++
	r.ID = fmt.Sprintf("rec%06d", s.nextID)
	s.records[r.ID] = r
	return r
}

type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
}

func reply(w http.ResponseWriter, status int, result any, info *resultInfo, errs ...apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]any{"success": len(errs) == 0, "errors": errs, "messages": []any{}, "result": result}
	if errs == nil {
		body["errors"] = []apiError{}
	}
	if info != nil {
		body["result_info"] = info
	}
	json.NewEncoder(w).Encode(body)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/client/v4/")
	parts := strings.Split(path, "/")
	kind := parts[0]
	if len(parts) >= 3 {
		kind = parts[2]
	}
	if len(parts) == 4 && parts[3] == "batch" {
		kind = "batch"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[r.Method+" "+kind]++
	for _, f := range s.faults {
		if fault := f(r); fault != nil {
			if fault.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(fault.RetryAfter))
			}
			reply(w, fault.Status, nil, nil, apiError{Code: 10000 + fault.Status, Message: http.StatusText(fault.Status)})
			return
		}
	}
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		reply(w, http.StatusForbidden, nil, nil, apiError{Code: 10000, Message: "Authentication error"})
		return
	}
	switch {
	case len(parts) == 1 && parts[0] == "zones" && r.Method == http.MethodGet:
		s.listZones(w, r)
	case len(parts) == 3 && parts[0] == "zones" && parts[2] == "dns_records":
		zoneID := parts[1]
		if !slices.Contains(mapValues(s.zones), zoneID) {
			reply(w, http.StatusNotFound, nil, nil, apiError{Code: 7003, Message: "Could not route to /zones/" + zoneID})
			return
		}
		switch r.Method {
		case http.MethodGet:
			s.listRecords(w, r, zoneID)
		case http.MethodPost:
			s.createRecord(w, r, zoneID)
		default:
			reply(w, http.StatusMethodNotAllowed, nil, nil, apiError{Code: 10405, Message: "method not allowed"})
		}
	case len(parts) == 4 && parts[0] == "zones" && parts[2] == "dns_records" && parts[3] == "batch" && r.Method == http.MethodPost:
		s.batch(w, r, parts[1])
	case len(parts) == 4 && parts[0] == "zones" && parts[2] == "dns_records":
		rec, ok := s.records[parts[3]]
		if !ok || rec.ZoneID != parts[1] {
			reply(w, http.StatusNotFound, nil, nil, apiError{Code: 81044, Message: "Record does not exist."})
			return
		}
		switch r.Method {
		case http.MethodPatch:
			s.patchRecord(w, r, rec)
		case http.MethodDelete:
			delete(s.records, rec.ID)
			reply(w, http.StatusOK, map[string]string{"id": rec.ID}, nil)
		default:
			reply(w, http.StatusMethodNotAllowed, nil, nil, apiError{Code: 10405, Message: "method not allowed"})
		}
	default:
		reply(w, http.StatusNotFound, nil, nil, apiError{Code: 7000, Message: "No route for that URI"})
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func (s *Server) listZones(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSuffix(r.URL.Query().Get("name"), ".")
	var out []map[string]string
	for z, id := range s.zones {
		if name == "" || name == z {
			out = append(out, map[string]string{"id": id, "name": z})
		}
	}
	reply(w, http.StatusOK, out, &resultInfo{Page: 1, PerPage: 20, Count: len(out), TotalCount: len(out)})
}

func (s *Server) listRecords(w http.ResponseWriter, r *http.Request, zoneID string) {
	q := r.URL.Query()
	var all []Record
	for _, rec := range s.records {
		if rec.ZoneID != zoneID ||
			q.Get("type") != "" && rec.Type != q.Get("type") ||
			q.Get("name") != "" && !strings.EqualFold(rec.Name, strings.TrimSuffix(q.Get("name"), ".")) ||
			q.Get("content.exact") != "" && rec.Content != q.Get("content.exact") ||
			q.Get("content.contains") != "" && !strings.Contains(rec.Content, q.Get("content.contains")) {
			continue
		}
		all = append(all, rec)
	}
	slices.SortFunc(all, func(a, b Record) int { return strings.Compare(a.ID, b.ID) })
	page, _ := strconv.Atoi(q.Get("page"))
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	page, perPage = max(page, 1), min(max(perPage, 1), 100)
	if q.Get("per_page") == "" {
		perPage = 100
	}
	start := min((page-1)*perPage, len(all))
	end := min(start+perPage, len(all))
	reply(w, http.StatusOK, all[start:end], &resultInfo{Page: page, PerPage: perPage, Count: end - start, TotalCount: len(all)})
}

// check applies Cloudflare's rules to a record about to be stored.
func (s *Server) check(rec Record) *apiError {
	if rec.TTL != 1 && (rec.TTL < 60 || rec.TTL > 86400) {
		return &apiError{Code: 9021, Message: "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic."}
	}
	for _, other := range s.records {
		if other.ID == rec.ID || other.ZoneID != rec.ZoneID || !strings.EqualFold(other.Name, rec.Name) {
			continue
		}
		if other.Type == rec.Type && other.Content == rec.Content {
			return &apiError{Code: 81058, Message: "An identical record already exists."}
		}
		if (other.Type == "CNAME") != (rec.Type == "CNAME") {
			return &apiError{Code: 81053, Message: "An A, AAAA, or CNAME record with that host already exists."}
		}
	}
	return nil
}

func (s *Server) createRecord(w http.ResponseWriter, r *http.Request, zoneID string) {
	var rec Record
	if err := json.NewDecoder(r.Body).Decode(&rec); err != nil || rec.Type == "" || rec.Name == "" || rec.Content == "" {
		reply(w, http.StatusBadRequest, nil, nil, apiError{Code: 9207, Message: "Request body is invalid."})
		return
	}
	rec.ZoneID = zoneID
	rec.Name = s.absolute(rec.Name, zoneID)
	if rec.TTL == 0 {
		rec.TTL = 1
	}
	if e := s.check(rec); e != nil {
		reply(w, http.StatusBadRequest, nil, nil, *e)
		return
	}
	reply(w, http.StatusOK, s.create(rec), nil)
}

func (s *Server) patchRecord(w http.ResponseWriter, r *http.Request, rec Record) {
	var patch Record
	if err := json.NewDecoder(r.Body).Decode(&patch); err != nil {
		reply(w, http.StatusBadRequest, nil, nil, apiError{Code: 9207, Message: "Request body is invalid."})
		return
	}
	if patch.Type != "" {
		rec.Type = patch.Type
	}
	if patch.Name != "" {
		rec.Name = s.absolute(patch.Name, rec.ZoneID)
	}
	if patch.Content != "" {
		rec.Content = patch.Content
	}
	if patch.TTL != 0 {
		rec.TTL = patch.TTL
	}
	if e := s.check(rec); e != nil {
		reply(w, http.StatusBadRequest, nil, nil, *e)
		return
	}
	s.records[rec.ID] = rec
	reply(w, http.StatusOK, rec, nil)
}

// batch applies deletes, patches and posts, in that order, all or nothing,
// as Cloudflare's batch endpoint does.
func (s *Server) batch(w http.ResponseWriter, r *http.Request, zoneID string) {
	var req struct {
		Deletes []struct {
			ID string `json:"id"`
		} `json:"deletes"`
		Patches []Record `json:"patches"`
		Posts   []Record `json:"posts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		reply(w, http.StatusBadRequest, nil, nil, apiError{Code: 9207, Message: "Request body is invalid."})
		return
	}
	saved, savedID := map[string]Record{}, s.nextID
	for k, v := range s.records {
		saved[k] = v
	}
	undo := func(e apiError) {
		s.records, s.nextID = saved, savedID
		reply(w, http.StatusBadRequest, nil, nil, e)
	}
	var result struct {
		Deletes []Record `json:"deletes"`
		Patches []Record `json:"patches"`
		Posts   []Record `json:"posts"`
	}
	for _, d := range req.Deletes {
		rec, ok := s.records[d.ID]
		if !ok || rec.ZoneID != zoneID {
			undo(apiError{Code: 81044, Message: "Record does not exist."})
			return
		}
		delete(s.records, d.ID)
		result.Deletes = append(result.Deletes, rec)
	}
	for _, p := range req.Patches {
		rec, ok := s.records[p.ID]
		if !ok || rec.ZoneID != zoneID {
			undo(apiError{Code: 81044, Message: "Record does not exist."})
			return
		}
		if p.Content != "" {
			rec.Content = p.Content
		}
		if p.TTL != 0 {
			rec.TTL = p.TTL
		}
		if e := s.check(rec); e != nil {
			undo(*e)
			return
		}
		s.records[rec.ID] = rec
		result.Patches = append(result.Patches, rec)
	}
	for _, p := range req.Posts {
		p.ZoneID, p.Name = zoneID, s.absolute(p.Name, zoneID)
		if e := s.check(p); e != nil {
			undo(*e)
			return
		}
		result.Posts = append(result.Posts, s.create(p))
	}
	reply(w, http.StatusOK, result, nil)
}

// absolute returns name fully qualified in the zone, without trailing dot,
// as Cloudflare stores it (it accepts relative names, "@" and FQDNs).
func (s *Server) absolute(name, zoneID string) string {
	var zone string
	for z, id := range s.zones {
		if id == zoneID {
			zone = z
		}
	}
	name = strings.TrimSuffix(name, ".")
	switch {
	case name == "@" || name == zone:
		return zone
	case strings.HasSuffix(name, "."+zone):
		return name
	}
	return name + "." + zone
}
